/** The logging surface handed to plug-ins (a pino logger satisfies it); secrets never go in `obj`. */
export interface PluginLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}
