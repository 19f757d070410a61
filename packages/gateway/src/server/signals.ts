/** How a serving process learns that it should drain and stop. */

export type TerminationSignal = "SIGTERM" | "SIGINT";

export interface TerminationWatch {
  /** The first SIGTERM or SIGINT. */
  readonly received: Promise<TerminationSignal>;
  /** Removes the handlers (the default action, death by signal, comes back). */
  dispose(): void;
}

/**
 * Installs the process's only SIGTERM/SIGINT handlers (Apollo's own are turned off in
 * createApollo). They stay installed until `dispose()`: a repeated signal while draining is
 * reported and ignored, because a Ctrl-C under npm or a supervisor often arrives twice
 * (terminal and forwarder) and must not cut the drain short. The drain is bounded by
 * `drainMs`; SIGKILL stops the process at once.
 */
export function watchTerminationSignals(
  onRepeat: (signal: TerminationSignal) => void = () => {},
): TerminationWatch {
  let first: TerminationSignal | undefined;
  let resolve!: (signal: TerminationSignal) => void;
  const received = new Promise<TerminationSignal>((r) => {
    resolve = r;
  });
  const handler = (signal: TerminationSignal) => {
    if (first) return onRepeat(signal);
    first = signal;
    resolve(signal);
  };
  process.on("SIGTERM", handler);
  process.on("SIGINT", handler);
  return {
    received,
    dispose() {
      process.off("SIGTERM", handler);
      process.off("SIGINT", handler);
    },
  };
}
