/* The scheduler slice of stockade's own go-betweens.  Linux's EEVDF
 * scheduler (6.12 and later) lets a task ask for a shorter slice
 * (sched_attr.sched_runtime, no privilege needed); a task with a shorter
 * slice has an earlier deadline, so when it wakes on a busy machine it
 * runs at once instead of after the running task's slice (up to ~3 ms).
 * The daemon, the zygote and the spares spend their lives waking up to
 * hand something on, and so does the sandbox's broker, which a command's
 * every open waits for: they ask for the shortest slice.  A worker gives
 * it back before it runs the command, so that commands run with the normal
 * slice.  Older kernels ignore the request or refuse it: best effort. */
#include <sched.h>
#include <stdint.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "stockade/util.h"

/* struct sched_attr of the kernel ABI (glibc has no wrapper). */
struct slice_attr {
	uint32_t size, sched_policy;
	uint64_t sched_flags;
	int32_t sched_nice;
	uint32_t sched_priority;
	uint64_t sched_runtime, sched_deadline, sched_period;
};

bool sk_sched_other_cpus(const cpu_set_t *allowed, cpu_set_t *out)
{
	if (allowed)
		*out = *allowed;
	else if (sched_getaffinity(0, sizeof(*out), out) < 0)
		return false;
	int cpu = sched_getcpu();
	if (cpu < 0 || !CPU_ISSET(cpu, out))
		return false;
	CPU_CLR(cpu, out);
	return CPU_COUNT(out) > 0;
}

void sk_sched_short_slice(bool short_slice)
{
	struct slice_attr a;
	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	a.sched_policy = SCHED_OTHER;
	a.sched_nice = (int32_t)getpriority(PRIO_PROCESS, 0);
	a.sched_runtime = short_slice ? 100000 : 0;   /* 0.1 ms, the least; 0: the default */
	(void)syscall(SYS_sched_setattr, 0, &a, 0);
}
