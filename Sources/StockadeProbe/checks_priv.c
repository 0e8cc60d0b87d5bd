/* checks_priv.c — privileges and the process's view: capabilities, no_new_privs, seccomp, the
 * identity mapping, keyrings, pids and signals, ptrace, namespaces, terminals, mounts. */
#include "probe.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/keyctl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_fsopen
#define SYS_fsopen 430
#endif
#ifndef SYS_open_tree
#define SYS_open_tree 428
#endif
#ifndef OPEN_TREE_CLONE
#define OPEN_TREE_CLONE 1
#endif
#ifndef OPEN_TREE_CLOEXEC
#define OPEN_TREE_CLOEXEC O_CLOEXEC
#endif
#ifndef CLONE_NEWUSER
#define CLONE_NEWUSER 0x10000000
#endif

/*
 * caps.empty — the process holds no capability at all. PASS: CapInh, CapPrm, CapEff, CapBnd and
 * CapAmb in /proc/self/status are all zero (an empty bounding set means not even a setuid binary
 * or file capability could give one back). FAIL: any set is non-zero.
 */
static void check_caps_empty(const struct probe_check *self) {
    (void)self;
    const char *sets[] = {"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"};
    struct sbuf b, bad;
    sb_init(&b);
    sb_init(&bad);
    for (size_t i = 0; i < sizeof sets / sizeof sets[0]; i++) {
        char v[64];
        if (!proc_status_field(0, sets[i], v, sizeof v)) {
            fail("cannot read %s from /proc/self/status (%s)", sets[i], errname(errno));
            return;
        }
        unsigned long long mask = strtoull(v, NULL, 16);
        sb_add(&b, "%s=%s", sets[i], v);
        if (mask != 0) sb_add(&bad, "%s=%s", sets[i], v);
    }
    if (bad.len) fail("capabilities held: %s", bad.buf);
    else pass("all capability sets are empty (%s)", b.buf);
}

/*
 * nnp.set — no_new_privs is set, so no exec can gain privileges (setuid bits, file capabilities)
 * and the seccomp filter cannot be shed. PASS: PR_GET_NO_NEW_PRIVS returns 1 and clearing it is
 * refused. FAIL: it is 0.
 */
static void check_nnp(const struct probe_check *self) {
    (void)self;
    int v = prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0);
    if (v != 1) {
        fail("PR_GET_NO_NEW_PRIVS returned %d: an exec could gain privileges", v);
        return;
    }
    int r = prctl(PR_SET_NO_NEW_PRIVS, 0, 0, 0, 0);
    int e = errno;
    if (r == 0) fail("no_new_privs is 1 but clearing it succeeded");
    else pass("PR_GET_NO_NEW_PRIVS = 1; clearing it fails with %s", errname(e));
}

/*
 * seccomp.mode — a seccomp filter is loaded. PASS: "Seccomp: 2" (filter mode) in
 * /proc/self/status with at least one filter. FAIL: mode 0 (no filter) or 1 (strict, which the
 * probe could not be running in).
 */
static void check_seccomp_mode(const struct probe_check *self) {
    (void)self;
    char mode[32] = "", count[32] = "?";
    if (!proc_status_field(0, "Seccomp", mode, sizeof mode)) {
        fail("no Seccomp line in /proc/self/status (%s)", errname(errno));
        return;
    }
    proc_status_field(0, "Seccomp_filters", count, sizeof count);
    int prc = prctl(PR_GET_SECCOMP, 0, 0, 0, 0);
    if (strcmp(mode, "2") == 0 && atoi(count) >= 1)
        pass("Seccomp: 2 (filter mode), %s filter(s); PR_GET_SECCOMP returns %d", count, prc);
    else
        fail("Seccomp: %s, Seccomp_filters: %s: no seccomp filter is loaded", mode, count);
}

static int int80_getpid(void *arg) {
    (void)arg;
    long ret;
    /* The i386 getpid (20) through the 32-bit entry. */
    __asm__ volatile("int $0x80" : "=a"(ret) : "a"(20L) : "memory");
    return ret > 0 ? 0 : 1;
}

static int x32_getpid(void *arg) {
    (void)arg;
    long r = syscall(39 | 0x40000000L); /* getpid with the x32 bit */
    if (r >= 0) return 0;
    return errno == ENOSYS ? 2 : 1;
}

/*
 * seccomp.arch — system calls of other ABIs (i386 through int $0x80, x32) are refused: filters
 * written for x86_64 numbers would not apply to them. PASS: each attempt kills its process with
 * SIGSYS (the filter's bad-architecture action), or the kernel has no such entry (SIGSEGV for
 * int $0x80 without IA32 emulation, ENOSYS for x32). FAIL: a call goes through.
 */
static void check_seccomp_arch(const struct probe_check *self) {
    (void)self;
    struct sbuf b;
    sb_init(&b);
    bool bad = false;
    struct {
        const char *what;
        int (*fn)(void *);
    } tries[] = {{"i386 getpid via int $0x80", int80_getpid}, {"x32 getpid", x32_getpid}};
    for (size_t i = 0; i < 2; i++) {
        bool to;
        int st = run_in_child(tries[i].fn, NULL, 1500, &to);
        if (st < 0) {
            sb_add(&b, "%s: fork failed (%s)", tries[i].what, errname(errno));
            bad = true;
        } else if (to) {
            sb_add(&b, "%s: timed out", tries[i].what);
            bad = true;
        } else if (WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS) {
            sb_add(&b, "%s: killed by SIGSYS", tries[i].what);
        } else if (WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV && i == 0) {
            sb_add(&b, "%s: SIGSEGV (no 32-bit entry in this kernel)", tries[i].what);
        } else if (WIFEXITED(st) && WEXITSTATUS(st) == 2) {
            sb_add(&b, "%s: ENOSYS (no x32 in this kernel)", tries[i].what);
        } else if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
            sb_add(&b, "%s: WENT THROUGH", tries[i].what);
            bad = true;
        } else {
            sb_add(&b, "%s: ended with status 0x%x", tries[i].what, st);
            bad = !(WIFEXITED(st) && WEXITSTATUS(st) == 1); /* 1: refused with an errno */
        }
    }
    if (bad) fail("%s", b.buf);
    else pass("%s", b.buf);
}

/* Parse the single-line uid_map/gid_map: "inside outside count". Returns lines parsed. */
static int read_map(const char *path, long *inside, long *outside, long *count, char *raw, size_t cap) {
    if (read_file(path, raw, cap) < 0) return -1;
    int lines = 0;
    for (char *p = raw; *p;) {
        long a, b, c;
        if (sscanf(p, " %ld %ld %ld", &a, &b, &c) == 3) {
            if (lines == 0) {
                *inside = a;
                *outside = b;
                *count = c;
            }
            lines++;
        }
        char *nl = strchr(p, '\n');
        if (!nl) break;
        p = nl + 1;
    }
    for (char *p = raw; *p; p++)
        if (*p == '\n') *p = '|';
    return lines;
}

/*
 * id.mapping — the process is an ordinary user mapped to one unprivileged host id. PASS:
 * /proc/self/uid_map and gid_map map exactly one id, the process's own, to a host id that is not
 * 0 (and equals --expect-user-uid, the host uid of this Stockade user, when given); there are no
 * supplementary groups beyond the own gid; setuid(0) is refused. FAIL otherwise (say a map of
 * "0 0 4294967295": the host's identities).
 */
static void check_id_mapping(const struct probe_check *self) {
    (void)self;
    struct sbuf bad, b;
    sb_init(&bad);
    sb_init(&b);
    long in_u = -1, out_u = -1, n_u = 0, in_g = -1, out_g = -1, n_g = 0;
    char rawu[512], rawg[512];
    int lu = read_map("/proc/self/uid_map", &in_u, &out_u, &n_u, rawu, sizeof rawu);
    int lg = read_map("/proc/self/gid_map", &in_g, &out_g, &n_g, rawg, sizeof rawg);
    if (lu < 0 || lg < 0) {
        fail("cannot read /proc/self/uid_map or gid_map (%s)", errname(errno));
        return;
    }
    sb_add(&b, "uid_map '%s', gid_map '%s', uid %d gid %d", rawu, rawg, (int)getuid(), (int)getgid());
    if (lu != 1 || n_u != 1) sb_add(&bad, "uid_map maps %ld line(s), first of %ld id(s)", (long)lu, n_u);
    if (lg != 1 || n_g != 1) sb_add(&bad, "gid_map maps %ld line(s), first of %ld id(s)", (long)lg, n_g);
    if (out_u == 0 || out_g == 0) sb_add(&bad, "mapped to host root");
    if (in_u != (long)getuid()) sb_add(&bad, "own uid %d is not the mapped one %ld", (int)getuid(), in_u);
    if (g_opt.expect_user_uid >= 0 && out_u != g_opt.expect_user_uid)
        sb_add(&bad, "host uid %ld, expected %ld", out_u, g_opt.expect_user_uid);
    gid_t groups[64];
    int ng = getgroups(64, groups);
    for (int i = 0; i < ng; i++)
        if (groups[i] != getgid()) sb_add(&bad, "supplementary group %d", (int)groups[i]);
    if (setuid(0) == 0 && getuid() == 0 && in_u != 0) sb_add(&bad, "setuid(0) succeeded");
    if (bad.len) fail("%s: %s", bad.buf, b.buf);
    else pass("%s%s", b.buf, g_opt.expect_user_uid >= 0 ? "; host uid as expected" : "; no --expect-user-uid given");
}

/*
 * keys.session — the kernel keyrings the process can reach are its own, not the host's. A
 * process inherits its parent's session keyring across clone and exec: a sandbox spawned by the
 * daemon would possess the daemon's session keyring. PASS: keyctl is refused (the seccomp layer),
 * or every special keyring it resolves belongs to the sandbox's own uid. FAIL: a keyring owned
 * by someone else (a host id shows as the overflow uid) is reachable.
 */
static void check_keys_session(const struct probe_check *self) {
    (void)self;
    struct {
        const char *name;
        long id;
    } specs[] = {{"@t", KEY_SPEC_THREAD_KEYRING}, {"@p", KEY_SPEC_PROCESS_KEYRING},
                 {"@s", KEY_SPEC_SESSION_KEYRING}, {"@u", KEY_SPEC_USER_KEYRING},
                 {"@us", KEY_SPEC_USER_SESSION_KEYRING}};
    struct sbuf b, bad;
    sb_init(&b);
    sb_init(&bad);
    bool any_call = false;
    for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++) {
        long id = syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, specs[i].id, 0, 0, 0);
        if (id < 0) {
            int e = errno;
            if (e == EPERM && i == 0) {
                /* Denied outright: the filter (keyctl never answers EPERM for @t lookups). */
                pass("keyctl(KEYCTL_GET_KEYRING_ID) is refused with EPERM: no keyring is reachable");
                return;
            }
            sb_add(&b, "%s: %s", specs[i].name, errname(e));
            continue;
        }
        any_call = true;
        char desc[512];
        long n = syscall(SYS_keyctl, KEYCTL_DESCRIBE, id, desc, sizeof desc - 1, 0);
        if (n < 0) {
            sb_add(&b, "%s: id %ld, describe %s", specs[i].name, id, errname(errno));
            continue;
        }
        desc[n < (long)sizeof desc ? n : (long)sizeof desc - 1] = 0;
        /* "type;uid;gid;perm;description" */
        char type[64] = "", rest[400] = "";
        long uid = -1, gid = -1;
        unsigned perm = 0;
        sscanf(desc, "%63[^;];%ld;%ld;%x;%399[^\n]", type, &uid, &gid, &perm, rest);
        sb_add(&b, "%s: '%s' uid %ld", specs[i].name, rest, uid);
        if (uid != (long)getuid()) sb_add(&bad, "%s is '%s' owned by uid %ld (perm %08x)", specs[i].name, rest, uid, perm);
    }
    if (bad.len) fail("keyctl works and reaches keyrings that are not the sandbox's: %s", bad.buf);
    else if (any_call) pass("keyctl is allowed (no filter) but reaches only the sandbox user's keyrings: %s", b.buf);
    else pass("no keyring resolves: %s", b.buf);
}

/*
 * pid.host-pids — the host's processes are invisible. PASS: /proc/self/status NSpid has one
 * level (the pid namespace's /proc shows no outer pid of this process), every process in /proc
 * has the sandbox's own uid (a host process would show as another uid, usually the overflow
 * uid 65534), and --host-pid, when given, is not among them. FAIL otherwise.
 */
static void check_pid_host_pids(const struct probe_check *self) {
    (void)self;
    struct sbuf bad;
    sb_init(&bad);
    char nspid[128] = "";
    if (!proc_status_field(0, "NSpid", nspid, sizeof nspid)) {
        fail("no NSpid in /proc/self/status (%s): /proc is not this pid namespace's", errname(errno));
        return;
    }
    if (strchr(nspid, '\t') || strchr(nspid, ' ')) sb_add(&bad, "NSpid '%s' shows outer pids", nspid);
    long pids[4096];
    int n = list_pids(pids, 4096);
    if (n < 0) {
        fail("cannot list /proc (%s)", errname(errno));
        return;
    }
    int foreign = 0;
    for (int i = 0; i < n; i++) {
        char uid[128];
        if (!proc_status_field(pids[i], "Uid", uid, sizeof uid)) continue;
        long u = strtol(uid, NULL, 10);
        if (u != (long)getuid()) {
            if (foreign++ < 5) {
                char comm[64] = "?", path[64];
                snprintf(path, sizeof path, "/proc/%ld/comm", pids[i]);
                if (read_file(path, comm, sizeof comm) > 0) comm[strcspn(comm, "\n")] = 0;
                sb_add(&bad, "pid %ld (%s) has uid %ld", pids[i], comm, u);
            }
        }
    }
    if (foreign > 5) sb_add(&bad, "... %d processes of other uids in all", foreign);
    if (g_opt.host_pid > 0) {
        char path[64];
        struct stat st;
        snprintf(path, sizeof path, "/proc/%ld", g_opt.host_pid);
        if (stat(path, &st) == 0 && st.st_uid != getuid())
            sb_add(&bad, "host pid %ld is visible in /proc", g_opt.host_pid);
    }
    if (bad.len) fail("%s (of %d visible processes)", bad.buf, n);
    else pass("NSpid %s (one level); %d visible process(es), all of uid %d%s", nspid, n, (int)getuid(),
              g_opt.host_pid > 0 ? "; --host-pid not visible" : "");
}

/*
 * pid.signal-host — a process of the host cannot be signalled. Needs --host-pid (a process of the
 * host, e.g. the test itself). PASS: kill(PID, 0) and pidfd_open(PID) both fail with ESRCH (or
 * PID is a sandbox process of the same number, whose uid is the sandbox's). FAIL: the host process
 * exists from here (success or EPERM: the pid namespace does not hide it).
 */
static void check_pid_signal_host(const struct probe_check *self) {
    (void)self;
    if (g_opt.host_pid <= 0) {
        skip("no --host-pid given");
        return;
    }
    pid_t p = (pid_t)g_opt.host_pid;
    int k = kill(p, 0);
    int ke = errno;
    long pfd = syscall(SYS_pidfd_open, p, 0);
    int pe = errno;
    if (pfd >= 0) close((int)pfd);
    if (k < 0 && ke == ESRCH && pfd < 0 && pe == ESRCH) {
        pass("kill(%d, 0) and pidfd_open(%d): ESRCH (not in this pid namespace)", (int)p, (int)p);
        return;
    }
    char uid[64] = "";
    if (proc_status_field(p, "Uid", uid, sizeof uid) && strtol(uid, NULL, 10) == (long)getuid()) {
        pass("pid %d exists here but is a sandbox process of uid %d (a different process than the host's)", (int)p,
             (int)getuid());
        return;
    }
    fail("host pid %d reachable: kill(0) %s, pidfd_open %s", (int)p, k == 0 ? "succeeded" : errname(ke),
         pfd >= 0 ? "succeeded" : errname(pe));
}

/*
 * ptrace.attach — no process can be traced or have its memory reached. Tries PTRACE_SEIZE (an
 * attach that does not stop the tracee) on the probe's own processes: a child and the probe's
 * main process (same uid: the kernel alone would allow both). When PID 1 is not the probe (it is
 * the worker, non-dumpable, or outside a sandbox the host's init) only permission probes that
 * touch nothing: process_vm_readv of zero bytes (the kernel checks the attach permission first)
 * and opening /proc/1/mem without reading. PASS: everything is refused. FAIL: an attach succeeds
 * (the tracee is released when this check's process exits, a moment later) or PID 1's memory is
 * reachable.
 */
static void check_ptrace_attach(const struct probe_check *self) {
    (void)self;
    struct sbuf b, bad;
    sb_init(&b);
    sb_init(&bad);
    int pfd[2];
    if (pipe(pfd) < 0) {
        fail("pipe: %s", errname(errno));
        return;
    }
    pid_t child = fork();
    if (child == 0) {
        close(pfd[1]);
        prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
        char c;
        (void)!read(pfd[0], &c, 1);
        _exit(0);
    }
    close(pfd[0]);
    pid_t targets[2] = {child, g_probe_pid};
    const char *names[2] = {"own child", "the probe's main process"};
    for (int i = 0; i < 2; i++) {
        pid_t t = targets[i];
        if (t <= 0 || t == getpid()) continue;
        if (ptrace(PTRACE_SEIZE, t, NULL, NULL) == 0) sb_add(&bad, "attached to %s (pid %d)", names[i], (int)t);
        else sb_add(&b, "%s (pid %d): %s", names[i], (int)t, errname(errno));
    }
    if (g_probe_pid != 1) {
        if (syscall(SYS_process_vm_readv, 1, NULL, 0, NULL, 0, 0) == 0) sb_add(&bad, "process_vm_readv(1) allowed");
        else sb_add(&b, "process_vm_readv(1): %s", errname(errno));
        int fd = open("/proc/1/mem", O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
            sb_add(&bad, "opened /proc/1/mem");
            close(fd);
        } else {
            sb_add(&b, "/proc/1/mem: %s", errname(errno));
        }
    }
    close(pfd[1]);
    kill(child, SIGKILL);
    waitpid(child, NULL, __WALL);
    if (bad.len) fail("%s%s%s", bad.buf, b.len ? "; refused: " : "", b.buf);
    else pass("refused: %s", b.buf);
}

/*
 * pid.worker-tamper — code cannot alter the process that runs it. When PID 1 is not the probe it
 * is the worker, infrastructure that serves the next requests too; it runs as the same uid as the
 * requests, and non-dumpable only closes ptrace and /proc/1/mem. Tries prlimit(1) as a read only:
 * the kernel applies the same permission check as to a write, and a write could lower the
 * worker's limits for good (the same uid also lets a request renice it or change its CPU
 * affinity). PASS: refused. SKIP: PID 1 is the probe itself (no worker to tamper with). FAIL:
 * allowed; the line also lists the signals the worker catches (a request can send it those).
 */
static void check_pid_worker_tamper(const struct probe_check *self) {
    (void)self;
    if (g_probe_pid == 1) {
        skip("PID 1 is the probe itself: no worker to tamper with");
        return;
    }
    struct sbuf b, bad;
    sb_init(&b);
    sb_init(&bad);
    struct rlimit old;
    if (prlimit(1, RLIMIT_NOFILE, NULL, &old) == 0)
        sb_add(&bad, "prlimit(1) allowed (RLIMIT_NOFILE of PID 1 is %llu: a request could lower it)",
               (unsigned long long)old.rlim_cur);
    else sb_add(&b, "prlimit(1): %s", errname(errno));
    char caught[64] = "";
    if (proc_status_field(1, "SigCgt", caught, sizeof caught)) {
        unsigned long long mask = strtoull(caught, NULL, 16);
        struct sbuf sigs;
        sb_init(&sigs);
        for (int sig = 1; sig < 32; sig++)
            if (mask & (1ULL << (sig - 1))) sb_cat(&sigs, "%s%d", sigs.len ? "," : "", sig);
        sb_add(bad.len ? &bad : &b, "PID 1 catches signals %s", sigs.len ? sigs.buf : "none");
    }
    if (bad.len) fail("%s", bad.buf);
    else pass("%s", b.buf);
}

/*
 * ns.setns — no namespace can be joined. For every namespace link of this process and of PID 1,
 * open it and setns(fd, 0). PASS: every setns fails (EPERM from the filter, or the kernel's own
 * refusal). FAIL: one succeeds (then this check's process is in that namespace and exits).
 */
static void check_ns_setns(const struct probe_check *self) {
    (void)self;
    const char *kinds[] = {"user", "mnt", "pid", "net", "ipc", "uts", "cgroup", "time"};
    const char *owners[] = {"self", "1"};
    struct sbuf b, bad;
    sb_init(&b);
    sb_init(&bad);
    int tried = 0;
    for (int o = 0; o < 2; o++) {
        if (o == 1 && getpid() == 1) continue;
        for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
            char path[64];
            snprintf(path, sizeof path, "/proc/%s/ns/%s", owners[o], kinds[k]);
            int fd = open(path, O_RDONLY | O_CLOEXEC);
            if (fd < 0) continue;
            tried++;
            if (syscall(SYS_setns, fd, 0) == 0) sb_add(&bad, "setns(%s) succeeded", path);
            else sb_add(&b, "%s/%s %s", owners[o], kinds[k], errname(errno));
            close(fd);
        }
    }
    if (bad.len) fail("%s", bad.buf);
    else if (tried == 0) pass("no namespace file could be opened under /proc/*/ns");
    else pass("setns refused for all %d: %s", tried, b.buf);
}

/*
 * ns.unshare-user — no nested user namespace (the door to every other namespace type and to
 * mounting filesystems, a large kernel surface). PASS: unshare(CLONE_NEWUSER) fails. FAIL: it
 * succeeds; the line then says what the new namespace allowed (a mount namespace, a network one),
 * all inside this check's throwaway process.
 */
static void check_ns_unshare_user(const struct probe_check *self) {
    (void)self;
    if (syscall(SYS_unshare, CLONE_NEWUSER) < 0) {
        pass("unshare(CLONE_NEWUSER): %s", errname(errno));
        return;
    }
    struct sbuf b;
    sb_init(&b);
    sb_add(&b, "unshare(CLONE_NEWUSER) succeeded");
    char v[64] = "";
    proc_status_field(0, "CapEff", v, sizeof v);
    sb_add(&b, "CapEff in it %s", v);
    sb_add(&b, "then unshare(CLONE_NEWNS): %s", syscall(SYS_unshare, CLONE_NEWNS) == 0 ? "succeeded" : errname(errno));
    sb_add(&b, "unshare(CLONE_NEWNET): %s", syscall(SYS_unshare, CLONE_NEWNET) == 0 ? "succeeded" : errname(errno));
    fail("%s", b.buf);
}

/*
 * ns.clone-newuser — the same through clone(CLONE_NEWUSER) (the flags seccomp can inspect; clone3
 * is refused with ENOSYS so its in-memory flags never matter). PASS: clone fails. FAIL: a child
 * started in a new user namespace (it exits at once).
 */
static void check_ns_clone_newuser(const struct probe_check *self) {
    (void)self;
    long r = syscall(SYS_clone, (unsigned long)CLONE_NEWUSER | SIGCHLD, NULL, NULL, NULL, 0);
    if (r == 0) syscall(SYS_exit, 0);
    if (r < 0) {
        pass("clone(CLONE_NEWUSER|SIGCHLD): %s", errname(errno));
        return;
    }
    waitpid((pid_t)r, NULL, __WALL);
    fail("clone(CLONE_NEWUSER) started pid %ld in a new user namespace", r);
}

/*
 * tty.tiocsti — no terminal input can be injected (TIOCSTI pushes characters into the input of
 * the terminal, i.e. commands into the shell that started the sandbox). Tries TIOCSTI on each of
 * fds 0-2 that is a terminal and on /dev/tty. PASS: no injection succeeds and /dev/tty cannot be
 * opened (the sandbox has no controlling terminal). The line also says what TIOCSTI on a
 * non-terminal answers: EPERM means the filter stops it before the kernel looks at the fd. FAIL:
 * a character was injected (it is flushed at once with TCIFLUSH) or /dev/tty opened.
 */
static void check_tty_tiocsti(const struct probe_check *self) {
    (void)self;
    struct sbuf b, bad;
    sb_init(&b);
    sb_init(&bad);
    char ch = 0; /* NUL: nothing a shell would act on, and flushed right after */
    int ttys = 0;
    for (int fd = 0; fd < 3; fd++) {
        if (!isatty(fd)) continue;
        ttys++;
        if (ioctl(fd, TIOCSTI, &ch) == 0) {
            tcflush(fd, TCIFLUSH);
            sb_add(&bad, "TIOCSTI on fd %d injected a character", fd);
        } else {
            sb_add(&b, "TIOCSTI on tty fd %d: %s", fd, errname(errno));
        }
    }
    int tfd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (tfd >= 0) {
        if (ioctl(tfd, TIOCSTI, &ch) == 0) {
            tcflush(tfd, TCIFLUSH);
            sb_add(&bad, "TIOCSTI on /dev/tty injected a character");
        } else {
            sb_add(&bad, "/dev/tty opened (a controlling terminal; TIOCSTI %s)", errname(errno));
        }
        close(tfd);
    } else {
        sb_add(&b, "/dev/tty: %s", errname(errno));
    }
    int nfd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (nfd >= 0) {
        int r = ioctl(nfd, TIOCSTI, &ch);
        sb_add(&b, "TIOCSTI on a non-terminal: %s (%s)", r == 0 ? "success" : errname(errno),
               r < 0 && errno == EPERM ? "filtered" : "reached the kernel");
        close(nfd);
    }
    if (ttys == 0) sb_add(&b, "no terminal among fds 0-2");
    if (bad.len) fail("%s", bad.buf);
    else pass("%s", b.buf);
}

/* A fresh directory for mount experiments: under /tmp or the first --writable. */
static bool scratch_dir(char *out, size_t cap, const char *tag) {
    const char *base = g_opt.writable_count ? g_opt.writable[0] : "/tmp";
    canary_path(out, cap, base, tag);
    return mkdir(out, 0700) == 0;
}

/*
 * mount.mount — nothing can be mounted. Tries mount(2) of a tmpfs on a fresh directory in /tmp,
 * fsopen("tmpfs") and open_tree(OPEN_TREE_CLONE) of /tmp. PASS: all three fail. FAIL: any
 * succeeds (the mount is detached and the fds closed at once).
 */
static void check_mount_mount(const struct probe_check *self) {
    (void)self;
    struct sbuf b, bad;
    sb_init(&b);
    sb_init(&bad);
    char dir[4096];
    bool made = scratch_dir(dir, sizeof dir, "mnt");
    if (made) {
        if (mount("tmpfs", dir, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m") == 0) {
            umount2(dir, MNT_DETACH);
            sb_add(&bad, "mounted a tmpfs on %s", dir);
        } else {
            sb_add(&b, "mount(tmpfs): %s", errname(errno));
        }
        rmdir(dir);
    } else {
        /* Never mount over anything that exists: without a fresh directory, mount(2) is not tried. */
        sb_add(&b, "no scratch directory for mount(2) (%s): not tried", errname(errno));
    }
    long fd = syscall(SYS_fsopen, "tmpfs", 0);
    if (fd >= 0) {
        close((int)fd);
        sb_add(&bad, "fsopen(tmpfs) succeeded");
    } else {
        sb_add(&b, "fsopen: %s", errname(errno));
    }
    fd = syscall(SYS_open_tree, AT_FDCWD, "/tmp", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
    if (fd >= 0) {
        close((int)fd);
        sb_add(&bad, "open_tree(/tmp, OPEN_TREE_CLONE) succeeded");
    } else {
        sb_add(&b, "open_tree(OPEN_TREE_CLONE): %s", errname(errno));
    }
    if (bad.len) fail("%s", bad.buf);
    else pass("%s", b.buf);
}

/*
 * mount.pivot-root — the root cannot be changed with pivot_root. Calls pivot_root(D, D/old) on a
 * fresh directory D (not a mount point, so even a privileged caller gets EINVAL and nothing
 * changes). PASS: EPERM (refused before the kernel looks at the paths: no privilege, or the
 * filter). FAIL: any other answer: the caller had the privilege to pivot.
 */
static void check_mount_pivot_root(const struct probe_check *self) {
    (void)self;
    char dir[4096], old[4200];
    if (!scratch_dir(dir, sizeof dir, "pivot")) {
        long r = syscall(SYS_pivot_root, "/nonexistent-stockade-probe", "/nonexistent-stockade-probe/old");
        if (r < 0 && errno == EPERM) pass("pivot_root (no scratch directory, nonexistent paths): EPERM");
        else fail("pivot_root on nonexistent paths answered %s, not EPERM", r == 0 ? "success" : errname(errno));
        return;
    }
    snprintf(old, sizeof old, "%s/old", dir);
    mkdir(old, 0700);
    long r = syscall(SYS_pivot_root, dir, old);
    int e = errno;
    rmdir(old);
    rmdir(dir);
    if (r < 0 && e == EPERM) pass("pivot_root(%s, .../old): EPERM", dir);
    else if (r == 0) fail("pivot_root succeeded");
    else fail("pivot_root got past the privilege check (%s): the process may change its root", errname(e));
}

/*
 * mount.chroot — chroot is refused. PASS: chroot(D) on a fresh directory fails with EPERM.
 * FAIL: it succeeds (this check's process is then inside D and exits).
 */
static void check_mount_chroot(const struct probe_check *self) {
    (void)self;
    char dir[4096];
    const char *target = "/tmp";
    bool made = scratch_dir(dir, sizeof dir, "chroot");
    if (made) target = dir;
    int parent = -1;
    char name[512] = "";
    if (made) {
        char *slash = strrchr(dir, '/');
        snprintf(name, sizeof name, "%s", slash + 1);
        *slash = 0;
        parent = open(dir[0] ? dir : "/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        *slash = '/';
    }
    long r = syscall(SYS_chroot, target);
    int e = errno;
    if (parent >= 0) {
        unlinkat(parent, name, AT_REMOVEDIR);
        close(parent);
    }
    if (r == 0) fail("chroot(%s) succeeded", target);
    else if (e == EPERM) pass("chroot(%s): EPERM", target);
    else fail("chroot(%s) failed with %s, not EPERM", target, errname(e));
}

const struct probe_check probe_checks_priv[] = {
    {"caps.empty", check_caps_empty, NULL},
    {"nnp.set", check_nnp, NULL},
    {"seccomp.mode", check_seccomp_mode, NULL},
    {"seccomp.arch", check_seccomp_arch, NULL},
    {"id.mapping", check_id_mapping, NULL},
    {"keys.session", check_keys_session, NULL},
    {"pid.host-pids", check_pid_host_pids, NULL},
    {"pid.signal-host", check_pid_signal_host, NULL},
    {"ptrace.attach", check_ptrace_attach, NULL},
    {"pid.worker-tamper", check_pid_worker_tamper, NULL},
    {"ns.setns", check_ns_setns, NULL},
    {"ns.unshare-user", check_ns_unshare_user, NULL},
    {"ns.clone-newuser", check_ns_clone_newuser, NULL},
    {"tty.tiocsti", check_tty_tiocsti, NULL},
    {"mount.mount", check_mount_mount, NULL},
    {"mount.pivot-root", check_mount_pivot_root, NULL},
    {"mount.chroot", check_mount_chroot, NULL},
    {NULL, NULL, NULL},
};
