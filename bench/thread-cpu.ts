import { readThreads } from './cpu-meter.js';

/**
 * CPU seconds of this process's JavaScript (main) thread and of all its other threads (DuckDB's
 * workers, libuv's pool, V8's GC helpers), from /proc (Linux). A writer whose main thread is busy
 * for most of the wall clock is bound by it, however idle the other threads are. Time of a thread
 * that already ended is lost from `others`.
 */
export function threadCpu(): { main: number; others: number } {
  let main = 0;
  let others = 0;
  for (const [tid, seconds] of readThreads()) {
    if (tid === process.pid) main += seconds;
    else others += seconds;
  }
  return { main, others };
}
