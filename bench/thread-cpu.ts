import { readdirSync, readFileSync } from 'node:fs';

const TICKS = 100; // USER_HZ, the unit of /proc/<pid>/task/<tid>/stat times

/**
 * CPU seconds of this process's JavaScript (main) thread and of all its other threads (DuckDB's
 * workers, libuv's pool, V8's GC helpers), from /proc (Linux). A writer whose main thread is busy
 * for most of the wall clock is bound by it, however idle the other threads are.
 */
export function threadCpu(): { main: number; others: number } {
  let main = 0;
  let others = 0;
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      // comm may hold spaces and parentheses: the fields after it start after the last ')'.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const seconds = (Number(fields[11]) + Number(fields[12])) / TICKS;
      if (Number(tid) === process.pid) main += seconds;
      else others += seconds;
    } catch {
      // the thread ended between readdir and read; its time is lost from `others`
    }
  }
  return { main, others };
}
