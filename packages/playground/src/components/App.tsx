import { print } from "graphql";
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import type { MessagePartInput } from "../gql/graphql.js";
import { type ConnectionState, createPlaygroundClient, fetchImageUrl } from "../lib/client.js";
import { describeError } from "../lib/errors.js";
import { type Turn, titleOf, turnsFromMessages } from "../lib/history.js";
import { initialKey, isDeveloper, rememberKey } from "../lib/key.js";
import {
  CREATE_SESSION,
  DELETE_SESSION,
  RENAME_SESSION,
  SEND_MESSAGE,
  SESSION_MESSAGES,
  SESSIONS_QUERY,
  START_QUERY,
  UPLOAD_IMAGE,
} from "../lib/queries.js";
import type { Attachment, ImageInfo, TaskInfo, VisualRef } from "../lib/types.js";
import { Answer } from "./Answer.js";
import { Composer, type Draft, type Preset } from "./Composer.js";
import { ConnectionBanner } from "./ConnectionBanner.js";
import { defaultLayers, ImageView, type Layers } from "./ImageView.js";
import { KeyForm } from "./KeyForm.js";
import { LayerControls } from "./LayerControls.js";
import { Samples } from "./Samples.js";
import { type SessionItem, Sessions } from "./Sessions.js";
import { TurnHeader } from "./TurnHeader.js";

type ShownImage = ImageInfo & { src: string };

const toBase64 = (file: File) =>
  new Promise<string>((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).replace(/^data:[^,]*,/, ""));
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });

export function App() {
  const [key, setKey] = useState(initialKey);
  const developer = useMemo(isDeveloper, []);
  const [connected, setConnected] = useState(false);
  const [connection, setConnection] = useState<ConnectionState>("connecting");
  const [error, setError] = useState<string | null>(null);
  const client = useMemo(() => (key ? createPlaygroundClient(key) : null), [key]);
  const [model, setModel] = useState("");
  const [tasks, setTasks] = useState<TaskInfo[]>([]);
  const [freeChat, setFreeChat] = useState(true);
  const [multiTurn, setMultiTurn] = useState(true);
  const [sessions, setSessions] = useState<SessionItem[]>([]);
  const [drawer, setDrawer] = useState(false);
  const [sessionId, setSessionId] = useState<string | null>(null);
  const [images, setImages] = useState<Record<string, ShownImage>>({});
  const [viewId, setViewId] = useState<string | null>(null);
  const [turns, setTurns] = useState<Turn[]>([]);
  const [refsByAnswer, setRefsByAnswer] = useState<Record<string, VisualRef[]>>({});
  const [activeAnswer, setActiveAnswer] = useState<string | null>(null);
  const [hovered, setHovered] = useState<VisualRef | null>(null);
  const [selected, setSelected] = useState<VisualRef | null>(null);
  const [attachments, setAttachments] = useState<Attachment[]>([]);
  const [layers, setLayers] = useState<Layers>(defaultLayers);
  const [preset, setPreset] = useState<Preset | null>(null);
  const [busy, setBusy] = useState(false);
  const cancellers = useRef(new Map<string, () => void>());
  const focus = hovered ?? selected;
  const image = viewId ? (images[viewId] ?? null) : null;

  useEffect(() => () => client?.dispose(), [client]);
  useEffect(() => client?.onConnection(setConnection), [client]);
  const loadSessions = useCallback(async () => {
    if (!client) return;
    const r = await client.urql.query(SESSIONS_QUERY, {}).toPromise();
    if (r.error) return setError(describeError(r.error));
    setSessions(r.data?.sessions.edges.map((e) => e.node) ?? []);
  }, [client]);

  useEffect(() => {
    if (!client) return;
    void client.urql
      .query(START_QUERY, {})
      .toPromise()
      .then((r) => {
        if (r.error || !r.data) {
          setConnected(false);
          return setError(describeError(r.error));
        }
        rememberKey(key);
        setError(null);
        setConnected(true);
        setTasks(r.data.tasks);
        setFreeChat(r.data.model.freeChat);
        setMultiTurn(r.data.model.multiTurn);
        setModel(`${r.data.model.name} (${r.data.model.executionProvider}, ${r.data.model.dtype})`);
        void loadSessions();
      });
  }, [client, key, loadSessions]);

  // Esc cancels the answer that is running (the latest one when several are).
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== "Escape") return;
      setDrawer(false);
      const cancel = [...cancellers.current.values()].at(-1);
      if (cancel) {
        e.preventDefault();
        cancel();
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, []);
  // Drop an image anywhere on the page to upload it.
  const uploadRef = useRef<(file: File) => void>(() => {});
  useEffect(() => {
    const over = (e: DragEvent) => {
      if (e.dataTransfer && [...e.dataTransfer.types].includes("Files")) e.preventDefault();
    };
    const drop = (e: DragEvent) => {
      const file = [...(e.dataTransfer?.files ?? [])].find((f) => f.type.startsWith("image/"));
      if (!file) return;
      e.preventDefault();
      uploadRef.current(file);
    };
    window.addEventListener("dragover", over);
    window.addEventListener("drop", drop);
    return () => {
      window.removeEventListener("dragover", over);
      window.removeEventListener("drop", drop);
    };
  }, []);
  const registerCancel = useCallback((id: string, cancel: (() => void) | null) => {
    if (cancel) cancellers.current.set(id, cancel);
    else cancellers.current.delete(id);
  }, []);
  const onRefs = useCallback((id: string, refs: VisualRef[]) => {
    setRefsByAnswer((all) => ({ ...all, [id]: refs }));
  }, []);

  const addImage = async (info: ImageInfo) => {
    if (images[info.id]) return;
    const src = await fetchImageUrl(key, info.url);
    setImages((all) => ({ ...all, [info.id]: { ...info, src } }));
  };
  const showImage = async (info: ImageInfo) => {
    await addImage(info);
    setViewId(info.id);
    setAttachments([]);
  };

  const upload = async (file: File) => {
    if (!client) return;
    setError(null);
    const r = await client.urql
      .mutation(UPLOAD_IMAGE, {
        b: await toBase64(file),
        m: file.type || null,
        f: file.name || null,
      })
      .toPromise();
    if (r.error || !r.data) return setError(describeError(r.error));
    await showImage(r.data.uploadImage).catch((e: Error) => setError(e.message));
  };

  uploadRef.current = (file) => void upload(file);

  const resetChat = () => {
    setTurns([]);
    setRefsByAnswer({});
    setActiveAnswer(null);
    setSelected(null);
    setHovered(null);
  };
  const openSession = async (id: string) => {
    if (!client) return;
    setDrawer(false);
    setSessionId(id);
    resetChat();
    const r = await client.urql.query(SESSION_MESSAGES, { s: id }).toPromise();
    if (r.error) return setError(describeError(r.error));
    const messages = (r.data?.session?.messages.edges ?? []).map((e) => e.node);
    const history = turnsFromMessages(messages);
    setTurns(history.turns);
    setActiveAnswer(history.turns.at(-1)?.assistantId ?? null);
    try {
      for (const info of history.images) await addImage(info);
      const last = history.images.at(-1);
      if (last) setViewId(last.id);
    } catch (e) {
      setError((e as Error).message);
    }
  };

  // A chip of any answer brings its image and its answer's objects into view.
  const onFocus = useCallback(
    (ref: VisualRef | null) => {
      setHovered(ref);
      if (!ref) return;
      if (images[ref.image.id]) setViewId(ref.image.id);
      const owner = Object.entries(refsByAnswer).find(([, list]) =>
        list.some((r) => r.id === ref.id),
      );
      if (owner) setActiveAnswer(owner[0]);
    },
    [images, refsByAnswer],
  );
  const onSelect = (ref: VisualRef) => {
    onFocus(ref);
    setSelected((s) => (s?.id === ref.id ? null : ref));
  };

  const send = async (draft: Draft) => {
    if (!client) return;
    if (!image && !draft.text) return setError("Upload an image or write a message first.");
    setBusy(true);
    setError(null);
    try {
      let sid = sessionId;
      if (!sid) {
        const c = await client.urql
          .mutation(CREATE_SESSION, { title: titleOf(draft.description) })
          .toPromise();
        if (c.error || !c.data) return setError(describeError(c.error));
        sid = c.data.createSession.id;
        setSessionId(sid);
      }
      const parts: MessagePartInput[] = [];
      if (image) parts.push({ imageId: image.id });
      for (const a of attachments)
        parts.push({
          visualRef:
            a.kind === "box"
              ? { imageId: image?.id, box: a.box }
              : { imageId: image?.id, patches: a.patches },
        });
      if (draft.text) parts.push({ text: draft.text });
      const input = {
        sessionId: sid,
        parts,
        task: draft.task,
        options: draft.maxNewTokens ? { maxNewTokens: draft.maxNewTokens } : undefined,
        idempotencyKey: crypto.randomUUID(),
      };
      const r = await client.urql.mutation(SEND_MESSAGE, { input }).toPromise();
      if (r.error || !r.data) return setError(describeError(r.error));
      const id = r.data.sendMessage.assistantMessage.id;
      setTurns((t) => [
        ...t,
        {
          description: draft.description,
          assistantId: id,
          imageId: image?.id ?? null,
          request: { query: print(SEND_MESSAGE), variables: { input } },
        },
      ]);
      setActiveAnswer(id);
      setAttachments([]);
      setSelected(null);
      void loadSessions();
    } finally {
      setBusy(false);
    }
  };

  if (!client || !connected)
    return (
      <KeyForm
        initial={key}
        error={error}
        onSubmit={(k) => {
          setError(null);
          setKey(k);
        }}
      />
    );
  const answerInView = activeAnswer ?? turns.at(-1)?.assistantId ?? null;
  const drawn = (answerInView ? (refsByAnswer[answerInView] ?? []) : []).filter(
    (r) => r.decoded && r.image.id === image?.id,
  );
  return (
    <div className="app">
      <Sessions
        open={drawer}
        sessions={sessions}
        current={sessionId}
        onSelect={(id) => void openSession(id)}
        onNew={() => {
          setDrawer(false);
          setSessionId(null);
          resetChat();
        }}
        onRename={(id, title) =>
          void client.urql
            .mutation(RENAME_SESSION, { id, t: title })
            .toPromise()
            .then((r) => (r.error ? setError(describeError(r.error)) : loadSessions()))
        }
        onDelete={(id) =>
          void client.urql
            .mutation(DELETE_SESSION, { id })
            .toPromise()
            .then((r) => {
              if (r.error) return setError(describeError(r.error));
              if (id === sessionId) {
                setSessionId(null);
                resetChat();
              }
              return loadSessions();
            })
        }
      />
      <main>
        <header>
          <button
            type="button"
            className="drawer-toggle"
            aria-expanded={drawer}
            onClick={() => setDrawer((d) => !d)}
          >
            Chats
          </button>
          <h1>PaDT Studio</h1>
          <span data-testid="model" className="model">
            {model}
          </span>
          <span className="tasks" data-testid="supported-tasks">
            Tasks:{" "}
            {tasks
              .filter((t) => t.supported)
              .map((t) => t.name.toUpperCase())
              .join(", ")}
            {freeChat ? "; free chat" : "; no free chat"}
            {multiTurn ? "" : "; one question per image"}
          </span>
          <button
            type="button"
            className="change-key"
            onClick={() => {
              rememberKey("");
              setConnected(false);
              setKey("");
            }}
          >
            Change key
          </button>
        </header>
        <ConnectionBanner state={connection} />
        <section className="workspace">
          <section className="image-pane" aria-label="Image">
            {image ? (
              <>
                <LayerControls layers={layers} onChange={setLayers} />
                <ImageView
                  image={image}
                  src={image.src}
                  refs={drawn}
                  focus={focus && focus.image.id === image.id ? focus : null}
                  onFocus={onFocus}
                  attachments={attachments}
                  layers={layers}
                  onAttach={(a) =>
                    setAttachments((list) =>
                      list.some((b) => JSON.stringify(b) === JSON.stringify(a))
                        ? list
                        : [...list, a],
                    )
                  }
                />
              </>
            ) : (
              <Samples
                tasks={tasks.map((t) => t.name)}
                onError={setError}
                onPick={(file, p) => {
                  setPreset(p);
                  void upload(file);
                }}
              />
            )}
          </section>
          <section className="chat" aria-label="Chat">
            <div className="turns">
              {turns.map((t) => (
                <article className="turn" key={t.assistantId}>
                  <TurnHeader
                    description={t.description}
                    image={t.imageId ? images[t.imageId] : undefined}
                    onShowImage={() => t.imageId && images[t.imageId] && setViewId(t.imageId)}
                  />
                  <Answer
                    client={client}
                    turn={t}
                    tasks={tasks}
                    focus={focus}
                    onFocus={onFocus}
                    onSelect={onSelect}
                    onRefs={onRefs}
                    connection={connection}
                    developer={developer}
                    registerCancel={registerCancel}
                  />
                </article>
              ))}
            </div>
            {error && (
              <p className="error" role="alert" data-testid="error">
                {error}
              </p>
            )}
            <Composer
              tasks={tasks}
              freeChat={freeChat}
              attachments={attachments}
              busy={busy}
              preset={preset}
              onClearAttachments={() => setAttachments([])}
              onUpload={(f) => void upload(f)}
              onSend={(d) => void send(d)}
              onError={setError}
            />
          </section>
        </section>
      </main>
    </div>
  );
}
