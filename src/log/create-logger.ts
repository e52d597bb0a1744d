import { hostname } from 'node:os';

import { pino } from 'pino';
import type { Bindings, ChildLoggerOptions, DestinationStream, LogFn, Logger } from 'pino';

import { scrubText, scrubValue } from './scrub-secrets';

export { registerSecret, scrubText, scrubValue } from './scrub-secrets';

export interface CreateLoggerOptions {
  /** pino level name; defaults to "info". */
  level?: string;
  /** Where JSON lines go; defaults to stdout (synchronous, so a CLI exiting right after logging loses nothing). */
  destination?: DestinationStream | NodeJS.WritableStream;
  /** Extra fields on every line, added to pid and hostname. */
  base?: Record<string, unknown>;
}

/** Run context carried by child loggers; only the keys given become bindings. */
export interface LogContext {
  cluster?: string;
  runId?: string;
  step?: string;
  node?: string;
}

/**
 * A pino logger writing JSON lines with secrets scrubbed on every path. Structured scrubbing happens on
 * the way in (log objects, format args, child bindings); then every finished line is parsed and
 * scrubbed again before it is written, which also covers paths pino assembles itself (err.message as
 * msg, msgPrefix, setBindings) and anything a later option might add.
 */
export function createLogger(options: CreateLoggerOptions = {}): Logger {
  const destination = (options.destination ?? pino.destination({ dest: 1, sync: true })) as DestinationStream;
  const logger = pino(
    {
      level: options.level ?? 'info',
      base: { pid: process.pid, hostname: hostname(), ...options.base },
      formatters: {
        // Applies to base only: pino resets it for children, hence the child() wrapper below.
        bindings: (bindings) => scrubValue(bindings) as Bindings,
        log: (object) => scrubValue(object) as Record<string, unknown>,
      },
      // formatters.log already turned errors into scrubbed plain objects; pino's default err
      // serializer would re-serialize them (anything with a string message looks like an error to it).
      serializers: { err: (err: unknown) => err },
      hooks: {
        logMethod(args, method) {
          method.apply(this, scrubArgs(args) as Parameters<LogFn>);
        },
        streamWrite: scrubLine,
      },
    },
    destination,
  );
  guardBindings(logger);
  return logger;
}

/** A child logger bound to the given run context, e.g. logContext(log, { cluster, runId, step: 'basebackup' }). */
export function logContext(logger: Logger, context: LogContext): Logger {
  const bindings: Record<string, string> = {};
  for (const key of ['cluster', 'runId', 'step', 'node'] as const) {
    const value = context[key];
    if (value !== undefined) bindings[key] = value;
  }
  return logger.child(bindings);
}

/**
 * Scrubs what pino's format step would otherwise print raw: the message, printf args (objects are
 * stringified by %o/%j with their secret keys intact) and, for logger.error(err), the err.message pino
 * copies into msg. The first object arg is left to formatters.log, so errors keep their type there.
 */
function scrubArgs(args: unknown[]): unknown[] {
  const [first, ...rest] = args;
  if (first === null || typeof first !== 'object') return args.map(scrubFormatArg);
  if (rest.length > 0) return [first, ...rest.map(scrubFormatArg)];
  const message = errorMessage(first);
  return message === undefined ? [first] : [first, scrubText(message)];
}

/** The message pino would take from logger.error(err) or logger.error({ err }) when none is given. */
function errorMessage(obj: object): string | undefined {
  const fields = obj as { msg?: unknown; err?: { message?: unknown } | null };
  const err = obj instanceof Error ? obj : fields.msg === undefined ? fields.err : undefined;
  return typeof err?.message === 'string' ? err.message : undefined;
}

function scrubFormatArg(arg: unknown): unknown {
  // %s on a plain-object copy would print [object Object]; the error's own string form is what's wanted.
  if (arg instanceof Error) return scrubText(String(arg));
  return scrubValue(arg);
}

/** Last net: re-scrub the finished JSON line. Never throws, since a logging failure must not crash a run. */
function scrubLine(line: string): string {
  try {
    return `${JSON.stringify(scrubValue(JSON.parse(line)))}\n`;
  } catch {
    return scrubText(line);
  }
}

/**
 * pino serializes child bindings once, at child() time, without formatters.log. Wrapping child and
 * setBindings on the root covers every descendant, since children inherit from their parent.
 */
function guardBindings(logger: Logger): void {
  const child = logger.child;
  const setBindings = logger.setBindings;
  logger.child = function scrubbedChild<L extends string = never>(
    this: Logger,
    bindings: Bindings,
    childOptions?: ChildLoggerOptions<L>,
  ): Logger<L> {
    const safeOptions =
      childOptions?.msgPrefix === undefined
        ? childOptions
        : { ...childOptions, msgPrefix: scrubText(childOptions.msgPrefix) };
    return Reflect.apply(child, this, [scrubValue(bindings), safeOptions]) as Logger<L>;
  };
  logger.setBindings = function scrubbedSetBindings(this: Logger, bindings: Bindings) {
    Reflect.apply(setBindings, this, [scrubValue(bindings)]);
  };
}
