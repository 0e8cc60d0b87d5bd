/* checks_net.c — the network: the host's loopback and abstract sockets, routes out, raw, vsock
 * and netlink sockets. No packet ever leaves the machine: net.outside only connects when there is
 * no route out, where the kernel answers ENETUNREACH without sending anything. */
#include "probe.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/vm_sockets.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif

/* Non-blocking connect with a deadline. Returns 0 when connected, else -1 with errno (ETIMEDOUT
 * when nothing answered in time). */
static int connect_within(int fd, const struct sockaddr *sa, socklen_t len, int timeout_ms) {
    int fl = fcntl(fd, F_GETFL);
    fcntl(fd, F_SETFL, fl | O_NONBLOCK);
    if (connect(fd, sa, len) == 0) return 0;
    if (errno != EINPROGRESS && errno != EAGAIN) return -1;
    struct pollfd p = {.fd = fd, .events = POLLOUT};
    int r;
    do {
        r = poll(&p, 1, timeout_ms);
    } while (r < 0 && errno == EINTR);
    if (r == 0) {
        errno = ETIMEDOUT;
        return -1;
    }
    int soerr = 0;
    socklen_t sl = sizeof soerr;
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
    if (soerr) {
        errno = soerr;
        return -1;
    }
    return 0;
}

/*
 * net.host-loopback — the host's loopback services are unreachable (a fresh network namespace
 * has a loopback of its own). Needs --host-port: a TCP listener on the host's 127.0.0.1. PASS:
 * the connect to 127.0.0.1:PORT fails (ECONNREFUSED from the sandbox's own loopback) or gets no
 * answer within 1 s. FAIL: it connects.
 */
static void check_net_host_loopback(const struct probe_check *self) {
    (void)self;
    if (g_opt.host_port <= 0) {
        skip("no --host-port given");
        return;
    }
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        pass("socket(AF_INET): %s: no TCP at all", errname(errno));
        return;
    }
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)g_opt.host_port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int r = connect_within(fd, (struct sockaddr *)&a, sizeof a, 1000);
    int e = errno;
    close(fd);
    if (r == 0) fail("connected to 127.0.0.1:%d: the host's loopback is reachable", g_opt.host_port);
    else pass("connect to 127.0.0.1:%d: %s", g_opt.host_port, errname(e));
}

/*
 * net.abstract-unix — the host's abstract unix sockets are unreachable (they belong to a network
 * namespace; Landlock's scope also refuses connects outside the sandbox's domain). Needs
 * --host-abstract NAME (a listening stream socket of the host). PASS: connecting to "@NAME"
 * fails. FAIL: it connects.
 */
static void check_net_abstract_unix(const struct probe_check *self) {
    (void)self;
    if (!g_opt.host_abstract) {
        skip("no --host-abstract given");
        return;
    }
    struct sockaddr_un a;
    memset(&a, 0, sizeof a);
    a.sun_family = AF_UNIX;
    size_t n = strlen(g_opt.host_abstract);
    if (n > sizeof a.sun_path - 1) n = sizeof a.sun_path - 1;
    memcpy(a.sun_path + 1, g_opt.host_abstract, n);
    socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n);
    struct sbuf b, bad;
    sb_init(&b);
    sb_init(&bad);
    int types[1] = {SOCK_STREAM};
    const char *tn[1] = {"stream"};
    for (int i = 0; i < 1; i++) {
        int fd = socket(AF_UNIX, types[i] | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            sb_add(&b, "%s socket: %s", tn[i], errname(errno));
            continue;
        }
        int r = connect_within(fd, (struct sockaddr *)&a, len, 1000);
        if (r == 0) sb_add(&bad, "%s connect to @%s succeeded", tn[i], g_opt.host_abstract);
        else sb_add(&b, "%s connect to @%s: %s", tn[i], g_opt.host_abstract, errname(errno));
        close(fd);
    }
    if (bad.len) fail("%s", bad.buf);
    else pass("%s", b.buf);
}

/* Interfaces other than lo, and routes through them, from /proc/net. */
static void routes_out(struct sbuf *found) {
    static char buf[65536];
    if (read_file("/proc/net/dev", buf, sizeof buf) > 0) {
        char *line = strchr(buf, '\n');
        if (line) line = strchr(line + 1, '\n');
        while (line && *++line) {
            char name[IFNAMSIZ + 1] = "";
            if (sscanf(line, " %16[^:]:", name) == 1 && strcmp(name, "lo") != 0) sb_add(found, "interface %s", name);
            line = strchr(line, '\n');
        }
    }
    if (read_file("/proc/net/route", buf, sizeof buf) > 0) {
        char *line = strchr(buf, '\n');
        while (line && *++line) {
            char dev[IFNAMSIZ + 1] = "";
            unsigned dest = 0;
            if (sscanf(line, "%16s %x", dev, &dest) == 2 && strcmp(dev, "lo") != 0)
                sb_add(found, "IPv4 route %s via %s", dest == 0 ? "default" : "to a network", dev);
            line = strchr(line, '\n');
        }
    }
    if (read_file("/proc/net/ipv6_route", buf, sizeof buf) > 0) {
        for (char *line = buf; line && *line;) {
            char dst[40], dev[IFNAMSIZ + 1] = "";
            unsigned plen;
            if (sscanf(line, "%32s %x %*s %*s %*s %*s %*s %*s %*s %16s", dst, &plen, dev) == 3 && strcmp(dev, "lo") != 0)
                sb_add(found, "IPv6 route %s/%u via %s", strspn(dst, "0") == 32 ? "default" : "prefix", plen, dev);
            line = strchr(line, '\n');
            if (line) line++;
        }
    }
}

/*
 * net.outside — there is no way out of the machine. PASS: the only interface is lo, no IPv4 or
 * IPv6 route uses another, and TCP connects to 10.255.255.1:80, 1.1.1.1:53 and
 * [2606:4700:4700::1111]:53 and a UDP send to 1.1.1.1:53 fail at once (ENETUNREACH: nothing is
 * sent). FAIL: an interface or route out exists (then nothing is tried, so no packet leaves), or
 * a connect does not fail within 300 ms.
 */
static void check_net_outside(const struct probe_check *self) {
    (void)self;
    struct sbuf found;
    sb_init(&found);
    routes_out(&found);
    if (found.len) {
        fail("a way out exists: %s (no connection attempted, so nothing was sent)", found.buf);
        return;
    }
    struct sbuf b, bad;
    sb_init(&b);
    sb_init(&bad);
    struct {
        int family;
        const char *addr;
        int port;
        int type;
    } dests[] = {{AF_INET, "10.255.255.1", 80, SOCK_STREAM},
                 {AF_INET, "1.1.1.1", 53, SOCK_STREAM},
                 {AF_INET6, "2606:4700:4700::1111", 53, SOCK_STREAM},
                 {AF_INET, "1.1.1.1", 53, SOCK_DGRAM}};
    for (size_t i = 0; i < sizeof dests / sizeof dests[0]; i++) {
        int fd = socket(dests[i].family, dests[i].type | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            sb_add(&b, "%s: socket %s", dests[i].addr, errname(errno));
            continue;
        }
        struct sockaddr_storage ss;
        socklen_t len;
        memset(&ss, 0, sizeof ss);
        if (dests[i].family == AF_INET) {
            struct sockaddr_in *a = (struct sockaddr_in *)&ss;
            a->sin_family = AF_INET;
            a->sin_port = htons((uint16_t)dests[i].port);
            inet_pton(AF_INET, dests[i].addr, &a->sin_addr);
            len = sizeof *a;
        } else {
            struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
            a->sin6_family = AF_INET6;
            a->sin6_port = htons((uint16_t)dests[i].port);
            inet_pton(AF_INET6, dests[i].addr, &a->sin6_addr);
            len = sizeof *a;
        }
        long t0 = now_ms();
        int r;
        const char *kind = dests[i].type == SOCK_DGRAM ? "udp send" : "tcp connect";
        if (dests[i].type == SOCK_DGRAM) {
            r = (int)sendto(fd, "", 0, MSG_DONTWAIT, (struct sockaddr *)&ss, len);
        } else {
            r = connect_within(fd, (struct sockaddr *)&ss, len, 300);
        }
        int e = errno;
        long took = now_ms() - t0;
        close(fd);
        if (r >= 0) sb_add(&bad, "%s to %s:%d succeeded", kind, dests[i].addr, dests[i].port);
        else if (e == ETIMEDOUT) sb_add(&bad, "%s to %s:%d did not fail at once (no answer in 300 ms)", kind, dests[i].addr, dests[i].port);
        else sb_add(&b, "%s %s:%d: %s in %ld ms", kind, dests[i].addr, dests[i].port, errname(e), took);
    }
    if (bad.len) fail("%s", bad.buf);
    else pass("only lo, no route out; %s", b.buf);
}

/* Try socket(family, type, proto) for each row; list those created (closed at once). */
struct sock_try {
    int family, type, proto;
    const char *what;
};
static void try_sockets(const struct sock_try *t, size_t n) {
    struct sbuf b, bad;
    sb_init(&b);
    sb_init(&bad);
    for (size_t i = 0; i < n; i++) {
        int fd = socket(t[i].family, t[i].type | SOCK_CLOEXEC, t[i].proto);
        if (fd >= 0) {
            close(fd);
            sb_add(&bad, "%s created", t[i].what);
        } else {
            sb_add(&b, "%s: %s", t[i].what, errname(errno));
        }
    }
    if (bad.len) fail("%s (others: %s)", bad.buf, b.len ? b.buf : "none");
    else pass("%s", b.buf);
}

/*
 * net.raw-socket — no raw access to the network: raw IPv4/IPv6 sockets, packet sockets and ICMP
 * "ping" sockets cannot be created. PASS: every socket() fails (EPERM/EACCES without
 * CAP_NET_RAW, EAFNOSUPPORT from the filter for AF_PACKET). FAIL: one is created.
 */
static void check_net_raw(const struct probe_check *self) {
    (void)self;
    struct sock_try t[] = {
        {AF_INET, SOCK_RAW, IPPROTO_ICMP, "AF_INET SOCK_RAW ICMP"},
        {AF_INET, SOCK_RAW, IPPROTO_RAW, "AF_INET SOCK_RAW IPPROTO_RAW"},
        {AF_INET6, SOCK_RAW, IPPROTO_ICMPV6, "AF_INET6 SOCK_RAW ICMPv6"},
        {AF_PACKET, SOCK_RAW, 0x0300 /* htons(ETH_P_ALL) */, "AF_PACKET SOCK_RAW"},
        {AF_PACKET, SOCK_DGRAM, 0x0300, "AF_PACKET SOCK_DGRAM"},
        {AF_INET, SOCK_DGRAM, IPPROTO_ICMP, "AF_INET ping socket"},
    };
    try_sockets(t, sizeof t / sizeof t[0]);
}

/*
 * net.vsock — AF_VSOCK sockets cannot be created (vsock is not scoped by network namespaces: it
 * reaches the hypervisor host of this VM). PASS: socket(AF_VSOCK) fails for stream, datagram and
 * seqpacket. FAIL: one is created (closed at once; nothing is ever connected).
 */
static void check_net_vsock(const struct probe_check *self) {
    (void)self;
    struct sock_try t[] = {
        {AF_VSOCK, SOCK_STREAM, 0, "AF_VSOCK stream"},
        {AF_VSOCK, SOCK_DGRAM, 0, "AF_VSOCK dgram"},
        {AF_VSOCK, SOCK_SEQPACKET, 0, "AF_VSOCK seqpacket"},
    };
    try_sockets(t, sizeof t / sizeof t[0]);
}

/*
 * net.netlink — netlink sockets cannot be created (route, sock_diag and uevent netlink expose a
 * large kernel surface). PASS: socket(AF_NETLINK) fails for each protocol. FAIL: one is created.
 */
static void check_net_netlink(const struct probe_check *self) {
    (void)self;
    struct sock_try t[] = {
        {AF_NETLINK, SOCK_RAW, NETLINK_ROUTE, "NETLINK_ROUTE"},
        {AF_NETLINK, SOCK_DGRAM, NETLINK_ROUTE, "NETLINK_ROUTE dgram"},
        {AF_NETLINK, SOCK_RAW, NETLINK_SOCK_DIAG, "NETLINK_SOCK_DIAG"},
        {AF_NETLINK, SOCK_RAW, NETLINK_KOBJECT_UEVENT, "NETLINK_KOBJECT_UEVENT"},
    };
    try_sockets(t, sizeof t / sizeof t[0]);
}

const struct probe_check probe_checks_net[] = {
    {"net.host-loopback", check_net_host_loopback, NULL},
    {"net.abstract-unix", check_net_abstract_unix, NULL},
    {"net.outside", check_net_outside, NULL},
    {"net.raw-socket", check_net_raw, NULL},
    {"net.vsock", check_net_vsock, NULL},
    {"net.netlink", check_net_netlink, NULL},
    {NULL, NULL, NULL},
};
