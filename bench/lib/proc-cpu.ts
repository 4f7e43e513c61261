/**
 * CPU time from /proc (Linux): a process's own (all its threads), and that of this process's
 * children that have exited (a CLI command the bench ran and waited for).
 */
import { readFile } from 'node:fs/promises'

/** /proc reports CPU time in clock ticks of USER_HZ, which Linux fixes at 100 for user space. */
const TICKS_PER_S = 100

/** The fields of /proc/<pid>/stat after the command name (which may hold spaces), from field 3 on. */
async function statFields (pid: number | string): Promise<string[]> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8')
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')
}

/** User + system CPU seconds of a running process, all its threads. */
export async function cpuSecondsOf (pid: number): Promise<number> {
  const f = await statFields(pid)
  // utime and stime are fields 14 and 15
  return (Number(f[11]) + Number(f[12])) / TICKS_PER_S
}

/** User + system CPU seconds of a running process's main thread alone (a Node process's event loop and JavaScript). */
export async function mainThreadCpuSecondsOf (pid: number): Promise<number> {
  const f = await statFields(`${pid}/task/${pid}`)
  return (Number(f[11]) + Number(f[12])) / TICKS_PER_S
}

/** User + system CPU seconds of this process's children that have exited and been waited for. */
export async function exitedChildrenCpuSeconds (): Promise<number> {
  const f = await statFields('self')
  // cutime and cstime are fields 16 and 17
  return (Number(f[13]) + Number(f[14])) / TICKS_PER_S
}
