/**
 * Failed-login throttling (FailedLogins.admit) makes a login wait: its
 * input stays paused meanwhile, so nothing more is read or buffered, and
 * the check runs only if the connection is still there.
 */
export interface PausableInput {
  pause(): void;
  resume(): void;
}

export function runAfterPause(
  input: PausableInput,
  waitMs: number,
  closed: () => boolean,
  run: () => void,
): NodeJS.Timeout {
  input.pause();
  const timer = setTimeout(() => {
    if (closed()) return;
    input.resume();
    run();
  }, waitMs);
  timer.unref();
  return timer;
}
