/* The i386 system call ABI (int $0x80), from a 64-bit machine: no libc, so
 * it builds with any x86_64 gcc (cc -m32 -nostdlib -static ...; see
 * abi32.bats).  Each mode makes one kind of call the way a 32-bit program
 * would; it prints "SENT"/"OK" or "error N" (N = errno) and exits 0 or 1.
 *   abi32 cat FILE        open(5) + read(3) + write(4) to stdout
 *   abi32 sendmsg PORT    UDP datagram to 127.0.0.1:PORT with sendmsg(370)
 *   abi32 sendmmsg PORT   two datagrams, to PORT+1 then PORT, sendmmsg(345)
 *   abi32 socket          socket(359), the direct call
 *   abi32 socketcall      socket through the socketcall(102) multiplexer */
typedef unsigned int u32;
typedef unsigned short u16;

static int sys(int nr, int a, int b, int c, int d)
{
	int r;
	__asm__ volatile("int $0x80" : "=a"(r) : "a"(nr), "b"(a), "c"(b), "d"(c), "S"(d) : "memory");
	return r;
}

static int len_of(const char *s)
{
	int n = 0;
	while (s[n])
		n++;
	return n;
}

static void say(const char *s)
{
	sys(4, 1, (int)s, len_of(s), 0);
}

static __attribute__((noreturn)) void quit(int code)
{
	for (;;)
		sys(1, code, 0, 0, 0);
}

/* "error N" for a failed call (r = -errno), "SENT"/"OK" otherwise. */
static __attribute__((noreturn)) void outcome(int r, const char *ok)
{
	if (r >= 0) {
		say(ok);
		quit(0);
	}
	char buf[16] = "error ";
	int e = -r, i = 6;
	char digits[8];
	int n = 0;
	do
		digits[n++] = (char)('0' + e % 10);
	while ((e /= 10) && n < 8);
	while (n)
		buf[i++] = digits[--n];
	buf[i++] = '\n';
	buf[i] = '\0';
	say(buf);
	quit(1);
}

static int same(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

static int number(const char *s)
{
	int n = 0;
	while (*s >= '0' && *s <= '9')
		n = n * 10 + (*s++ - '0');
	return n;
}

struct sockaddr_in32 {
	u16 family, port;
	u32 addr;
	unsigned char zero[8];
};
struct iovec32 {
	u32 base, len;
};
struct msghdr32 {
	u32 name, namelen, iov, iovlen, control, controllen, flags;
};
struct mmsghdr32 {
	struct msghdr32 hdr;
	u32 len;
};

static struct sockaddr_in32 loopback_port(int port)
{
	struct sockaddr_in32 a = { 2, (u16)(((port & 0xff) << 8) | ((port >> 8) & 0xff)), 0x0100007f, { 0 } };
	return a;
}

__attribute__((used)) static void main32(int argc, char **argv)
{
	if (argc < 2)
		outcome(-22, "");
	const char *mode = argv[1];
	if (same(mode, "cat") && argc > 2) {
		char buf[4096];
		int fd = sys(5, (int)argv[2], 0, 0, 0), n;
		if (fd < 0)
			outcome(fd, "");
		while ((n = sys(3, fd, (int)buf, sizeof(buf), 0)) > 0)
			sys(4, 1, (int)buf, n, 0);
		quit(0);
	}
	if (same(mode, "socket"))
		outcome(sys(359, 2, 2, 0, 0), "OK\n");
	if (same(mode, "socketcall")) {
		u32 args[3] = { 2, 2, 0 };
		outcome(sys(102, 1, (int)args, 0, 0), "OK\n");
	}
	if ((same(mode, "sendmsg") || same(mode, "sendmmsg")) && argc > 2) {
		int port = number(argv[2]);
		int s = sys(359, 2, 2, 0, 0);   /* AF_INET, SOCK_DGRAM */
		if (s < 0)
			outcome(s, "");
		static char data[] = "x";
		struct iovec32 iov = { (u32)data, 1 };
		struct sockaddr_in32 to[2] = { loopback_port(port + 1), loopback_port(port) };
		struct mmsghdr32 m[2];
		for (int i = 0; i < 2; i++) {
			struct msghdr32 h = { (u32)&to[i], sizeof(to[i]), (u32)&iov, 1, 0, 0, 0 };
			m[i].hdr = h;
			m[i].len = 0;
		}
		if (same(mode, "sendmsg"))
			outcome(sys(370, s, (int)&m[1].hdr, 0, 0), "SENT\n");
		outcome(sys(345, s, (int)m, 2, 0), "SENT\n");
	}
	outcome(-22, "");
}

__asm__(".globl _start\n_start:\n\tmov %esp, %eax\n\tlea 4(%eax), %ecx\n\tpush %ecx\n\tpush (%eax)\n\tcall main32\n\thlt\n");
