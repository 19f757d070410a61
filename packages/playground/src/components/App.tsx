import { useCallback, useEffect, useMemo, useState } from "react";
import { createPlaygroundClient, fetchImageUrl } from "../lib/client.js";
import { describeError } from "../lib/errors.js";
import { type StoredMessage, type Turn, turnsFromMessages } from "../lib/history.js";
import { initialKey, rememberKey } from "../lib/key.js";
import {
  CREATE_SESSION,
  SEND_MESSAGE,
  SESSION_MESSAGES,
  SESSIONS_QUERY,
  START_QUERY,
  UPLOAD_IMAGE,
} from "../lib/queries.js";
import type { Attachment, ImageInfo, TaskInfo, VisualRef } from "../lib/types.js";
import { Answer } from "./Answer.js";
import { Composer, type Draft } from "./Composer.js";
import { ImageView } from "./ImageView.js";
import { KeyForm } from "./KeyForm.js";
import { type SessionItem, Sessions } from "./Sessions.js";

const toBase64 = (file: File) =>
  new Promise<string>((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).replace(/^data:[^,]*,/, ""));
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });

export function App() {
  const [key, setKey] = useState(initialKey);
  const [connected, setConnected] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const client = useMemo(() => (key ? createPlaygroundClient(key) : null), [key]);
  const [model, setModel] = useState("");
  const [tasks, setTasks] = useState<TaskInfo[]>([]);
  const [sessions, setSessions] = useState<SessionItem[]>([]);
  const [sessionId, setSessionId] = useState<string | null>(null);
  const [image, setImage] = useState<(ImageInfo & { src: string }) | null>(null);
  const [turns, setTurns] = useState<Turn[]>([]);
  const [refs, setRefs] = useState<VisualRef[]>([]);
  const [hovered, setHovered] = useState<VisualRef | null>(null);
  const [selected, setSelected] = useState<VisualRef | null>(null);
  const [attachments, setAttachments] = useState<Attachment[]>([]);
  const [busy, setBusy] = useState(false);
  const focus = hovered ?? selected;

  useEffect(() => () => client?.dispose(), [client]);
  const loadSessions = useCallback(async () => {
    if (!client) return;
    const r = await client.urql.query(SESSIONS_QUERY, {}).toPromise();
    if (r.error) return setError(describeError(r.error));
    setSessions(r.data.sessions.edges.map((e: { node: SessionItem }) => e.node));
  }, [client]);

  useEffect(() => {
    if (!client) return;
    void client.urql
      .query(START_QUERY, {})
      .toPromise()
      .then((r) => {
        if (r.error) {
          setConnected(false);
          return setError(describeError(r.error));
        }
        rememberKey(key);
        setError(null);
        setConnected(true);
        setTasks(r.data.tasks);
        setModel(`${r.data.model.name} (${r.data.model.executionProvider}, ${r.data.model.dtype})`);
        void loadSessions();
      });
  }, [client, key, loadSessions]);

  const showImage = async (info: ImageInfo) => {
    const src = await fetchImageUrl(key, info.url);
    setImage((old) => {
      if (old) URL.revokeObjectURL(old.src);
      return { ...info, src };
    });
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
    if (r.error) return setError(describeError(r.error));
    setRefs([]);
    await showImage(r.data.uploadImage).catch((e: Error) => setError(e.message));
  };

  const openSession = async (id: string) => {
    if (!client) return;
    setSessionId(id);
    setRefs([]);
    setSelected(null);
    const r = await client.urql.query(SESSION_MESSAGES, { s: id }).toPromise();
    if (r.error) return setError(describeError(r.error));
    const messages = (r.data.session?.messages.edges ?? []).map(
      (e: { node: StoredMessage }) => e.node,
    );
    const history = turnsFromMessages(messages);
    setTurns(history.turns);
    if (history.image) await showImage(history.image).catch((e: Error) => setError(e.message));
  };

  const send = async (draft: Draft) => {
    if (!client) return;
    if (!image && !draft.text) return setError("Upload an image or write a message first.");
    setBusy(true);
    setError(null);
    try {
      let sid = sessionId;
      if (!sid) {
        const title = draft.text || (draft.task ? Object.keys(draft.task)[0] : "chat");
        const c = await client.urql
          .mutation(CREATE_SESSION, { title: title?.slice(0, 60) })
          .toPromise();
        if (c.error) return setError(describeError(c.error));
        sid = c.data.createSession.id as string;
        setSessionId(sid);
      }
      const parts: Record<string, unknown>[] = [];
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
      if (r.error) return setError(describeError(r.error));
      const taskName = draft.task ? Object.keys(draft.task)[0] : undefined;
      setTurns((t) => [
        ...t,
        {
          userText: [taskName ? `[${taskName}]` : "", draft.text].filter(Boolean).join(" "),
          assistantId: r.data.sendMessage.assistantMessage.id,
        },
      ]);
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
  const onFocus = setHovered;
  const onSelect = (ref: VisualRef) => setSelected((s) => (s?.id === ref.id ? null : ref));
  const lastAnswer = turns.at(-1)?.assistantId;
  return (
    <div className="app">
      <Sessions
        sessions={sessions}
        current={sessionId}
        onSelect={(id) => void openSession(id)}
        onNew={() => {
          setSessionId(null);
          setTurns([]);
          setRefs([]);
          setSelected(null);
        }}
      />
      <main>
        <header>
          <strong>PaDT Studio</strong> <span data-testid="model">{model}</span>
          <button
            type="button"
            onClick={() => {
              rememberKey("");
              setConnected(false);
              setKey("");
            }}
          >
            Change key
          </button>
        </header>
        <section className="workspace">
          <div className="image-pane">
            {image ? (
              <ImageView
                image={image}
                src={image.src}
                refs={refs.filter((r) => r.decoded && r.image.id === image.id)}
                focus={focus && focus.image.id === image.id ? focus : null}
                onFocus={onFocus}
                attachments={attachments}
                onAttach={(a) =>
                  setAttachments((list) =>
                    list.some((b) => JSON.stringify(b) === JSON.stringify(a)) ? list : [...list, a],
                  )
                }
              />
            ) : (
              <p className="hint">
                Upload or paste an image. Click or drag on it to attach a visual reference.
              </p>
            )}
          </div>
          <div className="chat">
            <div className="turns">
              {turns.map((t) => (
                <div className="turn" key={t.assistantId}>
                  {t.userText && <p className="user-text">{t.userText}</p>}
                  <Answer
                    client={client}
                    messageId={t.assistantId}
                    tasks={tasks}
                    initial={t.initial}
                    focus={focus}
                    onFocus={onFocus}
                    onSelect={onSelect}
                    onRefs={t.assistantId === lastAnswer ? setRefs : ignore}
                  />
                </div>
              ))}
            </div>
            {error && (
              <p className="error" role="alert" data-testid="error">
                {error}
              </p>
            )}
            <Composer
              tasks={tasks}
              attachments={attachments}
              busy={busy}
              onClearAttachments={() => setAttachments([])}
              onUpload={(f) => void upload(f)}
              onSend={(d) => void send(d)}
              onError={setError}
            />
          </div>
        </section>
      </main>
    </div>
  );
}

const ignore = () => {};
