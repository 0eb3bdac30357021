import type { PluginLogger } from '../../domain/plugin.js';

/** A plug-in logger that keeps every line, so a test can prove what was (not) logged. */
export class CaptureLogger implements PluginLogger {
  readonly lines: string[] = [];
  private add(level: string, obj: object, msg?: string) {
    this.lines.push(JSON.stringify({ level, msg, ...obj }));
  }
  debug(obj: object, msg?: string) {
    this.add('debug', obj, msg);
  }
  info(obj: object, msg?: string) {
    this.add('info', obj, msg);
  }
  warn(obj: object, msg?: string) {
    this.add('warn', obj, msg);
  }
  error(obj: object, msg?: string) {
    this.add('error', obj, msg);
  }
  get text(): string {
    return this.lines.join('\n');
  }
}
