// The PaDT decoder graph in a thread of its own beside a model worker: the objects of every
// answer the worker batches are decoded here while the worker's thread goes on stepping the
// batch, instead of each decoder run stalling every member's next token (object_decoder.ts).
import { parentPort, workerData } from "node:worker_threads";
import { decodeObjectGeometry } from "../models/padt/decode_object.js";
import { type EncodedImage, PadtModel } from "../models/padt/model.js";
import { serializeError } from "../runtime/errors_wire.js";
import type { DecoderReply, DecoderRequest, DecoderThreadData } from "./object_decoder.js";

const port = parentPort;
if (!port) throw new Error("decoder_thread runs in a worker thread");
const data = (workerData as { data: DecoderThreadData }).data;
const send = (reply: DecoderReply) => port.postMessage(reply);

// Only the decoder graph is opened here: the manifest's other graphs stay with the worker.
PadtModel.open(data.bundle, data.manifest, data.session, ["decoder"]).then(
  (model) => {
    port.on("message", async (request: DecoderRequest) => {
      try {
        // onnxruntime-node refuses tensors on shared memory: copied here, off the batch's thread.
        const r = request.image;
        const image = {
          ...r,
          prototypes: r.prototypes.slice(),
          highRes: r.highRes.slice(),
          cos: r.cos.slice(),
          sin: r.sin.slice(),
          rowOfCell: r.rowOfCell.slice(),
        } as EncodedImage;
        const out = await decodeObjectGeometry(model, request.features, image, request.size);
        send({ type: "decoded", id: request.id, out });
      } catch (error) {
        send({ type: "failed", id: request.id, error: serializeError(error) });
      }
    });
    send({ type: "ready" });
  },
  (error) => send({ type: "init-failed", error: serializeError(error) }),
);
