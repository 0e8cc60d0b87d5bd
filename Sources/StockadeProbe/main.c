/*
 * main.c — stockade-probe: options, the check runner, the report.
 *
 * Usage: stockade-probe [--expect-user-uid N] [--host-port PORT] [--host-abstract NAME]
 *            [--host-pid PID] [--canary-env NAME]... [--host-file PATH]...
 *            [--other-user-dir PATH]... [--writable DIR]... [--allow-fd N]...
 *            [--skip CHECK]... [--only CHECK]... [--fork-limit N] [--mem-mb N] [--disk-mb N]
 *            [--nofile-limit N] [--timeout-ms N] [--total-timeout-ms N] [--verbose] [--list]
 *
 * CHECK in --skip/--only is a check name, a family ("net", "syscall") or a prefix ending in '*'.
 */
#include "probe.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

struct probe_options g_opt = {
    .expect_user_uid = -1,
    .host_pid = -1,
    .fork_limit = 256,
    .mem_mb = 128,
    .disk_mb = 32,
    .nofile_limit = 4096,
    .timeout_ms = 3000,
    .total_timeout_ms = 30000,
};

pid_t g_probe_pid;

/* ---- Result reporting ------------------------------------------------------------------------ */

/* In a check's child: the pipe to the parent. */
static int g_result_fd = -1;
static bool g_reported;

static void report(enum probe_status st, const char *fmt, va_list ap) {
    if (g_reported) return;
    g_reported = true;
    char rec[PROBE_DETAIL_MAX + 8];
    rec[0] = (char)('0' + st);
    int n = vsnprintf(rec + 1, sizeof rec - 1, fmt, ap);
    size_t len = n < 0 ? 1 : (size_t)n + 1;
    if (len > sizeof rec - 1) len = sizeof rec - 1;
    /* One line per check: newlines in details become spaces. */
    for (size_t i = 1; i < len; i++)
        if (rec[i] == '\n' || rec[i] == '\r') rec[i] = ' ';
    if (g_result_fd >= 0) {
        ssize_t w;
        do {
            w = write(g_result_fd, rec, len);
        } while (w < 0 && errno == EINTR);
    }
}

void pass(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    report(PROBE_PASS, fmt, ap);
    va_end(ap);
}
void fail(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    report(PROBE_FAIL, fmt, ap);
    va_end(ap);
}
void skip(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    report(PROBE_SKIP, fmt, ap);
    va_end(ap);
}

/* ---- Options --------------------------------------------------------------------------------- */

static void usage(FILE *to) {
    fprintf(to,
            "usage: stockade-probe [--expect-user-uid N] [--host-port PORT] [--host-abstract NAME]\n"
            "           [--host-pid PID] [--canary-env NAME]... [--host-file PATH]...\n"
            "           [--other-user-dir PATH]... [--writable DIR]... [--allow-fd N]...\n"
            "           [--skip CHECK]... [--only CHECK]... [--fork-limit N] [--mem-mb N]\n"
            "           [--disk-mb N] [--nofile-limit N] [--timeout-ms N] [--total-timeout-ms N]\n"
            "           [--verbose] [--list]\n"
            "Runs each escape check in a child process and prints PASS/FAIL/SKIP per check and\n"
            "'N passed, N failed'. Exit status 0 only if no check failed (2: usage error).\n"
            "\n"
            "  --expect-user-uid N   the host uid this sandbox's user must be mapped to (id.mapping)\n"
            "  --host-port PORT      a TCP listener on the host's 127.0.0.1 (net.host-loopback)\n"
            "  --host-abstract NAME  a listening abstract unix socket @NAME of the host (net.abstract-unix)\n"
            "  --host-pid PID        a process of the host (pid.signal-host, pid.host-pids)\n"
            "  --canary-env NAME     a variable set in the spawning process (env.secrets, proc.host-environ)\n"
            "  --host-file PATH      a host file that must stay invisible (fs.*)\n"
            "  --other-user-dir PATH another user's directory (fs.other-user)\n"
            "  --writable DIR        a directory the sandbox may write (besides /tmp, /dev/shm)\n"
            "  --allow-fd N          an fd the sandbox was given on purpose (fd.leaks)\n"
            "  --skip/--only CHECK   a name, a family (net, syscall, ...) or a prefix ending in '*'\n"
            "  --fork-limit N --mem-mb N --disk-mb N --nofile-limit N   caps of the res.* tries\n"
            "  --timeout-ms N --total-timeout-ms N   per-check deadline (3000), whole run (30000)\n"
            "  --list                the check names, one a line\n");
}

static long parse_num(const char *flag, const char *v, long min, long max) {
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno || *end || n < min || n > max) {
        fprintf(stderr, "stockade-probe: %s needs a number in %ld...%ld, got '%s'\n", flag, min, max, v);
        exit(2);
    }
    return n;
}

static void add_list(const char *flag, const char **list, int *count, int cap, const char *v) {
    if (*count >= cap) {
        fprintf(stderr, "stockade-probe: too many %s (at most %d)\n", flag, cap);
        exit(2);
    }
    list[(*count)++] = v;
}

static bool g_list_only;

static void parse_options(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            exit(0);
        }
        if (strcmp(a, "--verbose") == 0) {
            g_opt.verbose = true;
            continue;
        }
        if (strcmp(a, "--list") == 0) {
            g_list_only = true;
            continue;
        }
        /* Everything else takes a value: "--flag value" or "--flag=value". */
        static const char *const valued[] = {
            "--expect-user-uid", "--host-port", "--host-abstract", "--host-pid", "--canary-env", "--host-file",
            "--other-user-dir", "--writable", "--skip", "--only", "--allow-fd", "--fork-limit", "--mem-mb",
            "--disk-mb", "--nofile-limit", "--timeout-ms", "--total-timeout-ms",
        };
        const char *v = NULL;
        char flag[64];
        const char *eq = strchr(a, '=');
        if (strncmp(a, "--", 2) == 0 && eq && (size_t)(eq - a) < sizeof flag) {
            memcpy(flag, a, (size_t)(eq - a));
            flag[eq - a] = 0;
        } else {
            snprintf(flag, sizeof flag, "%s", a);
        }
        bool known = false;
        for (size_t k = 0; k < sizeof valued / sizeof valued[0]; k++)
            if (strcmp(flag, valued[k]) == 0) known = true;
        if (!known) {
            fprintf(stderr, "stockade-probe: unknown option '%s'\n", a);
            usage(stderr);
            exit(2);
        }
        if (strncmp(a, "--", 2) == 0 && eq) {
            v = eq + 1;
        } else {
            if (i + 1 >= argc) {
                fprintf(stderr, "stockade-probe: %s needs a value\n", a);
                usage(stderr);
                exit(2);
            }
            v = argv[++i];
        }
        if (strcmp(flag, "--expect-user-uid") == 0) g_opt.expect_user_uid = parse_num(flag, v, 0, 0xfffffffeL);
        else if (strcmp(flag, "--host-port") == 0) g_opt.host_port = (int)parse_num(flag, v, 1, 65535);
        else if (strcmp(flag, "--host-abstract") == 0) g_opt.host_abstract = v;
        else if (strcmp(flag, "--host-pid") == 0) g_opt.host_pid = parse_num(flag, v, 1, 1L << 30);
        else if (strcmp(flag, "--canary-env") == 0) add_list(flag, g_opt.canary_env, &g_opt.canary_env_count, PROBE_MAX_LIST, v);
        else if (strcmp(flag, "--host-file") == 0) add_list(flag, g_opt.host_file, &g_opt.host_file_count, PROBE_MAX_LIST, v);
        else if (strcmp(flag, "--other-user-dir") == 0) add_list(flag, g_opt.other_user_dir, &g_opt.other_user_dir_count, PROBE_MAX_LIST, v);
        else if (strcmp(flag, "--writable") == 0) add_list(flag, g_opt.writable, &g_opt.writable_count, PROBE_MAX_LIST, v);
        else if (strcmp(flag, "--skip") == 0) add_list(flag, g_opt.skip, &g_opt.skip_count, PROBE_MAX_LIST * 2, v);
        else if (strcmp(flag, "--only") == 0) add_list(flag, g_opt.only, &g_opt.only_count, PROBE_MAX_LIST * 2, v);
        else if (strcmp(flag, "--allow-fd") == 0) {
            if (g_opt.allow_fd_count >= PROBE_MAX_LIST) {
                fprintf(stderr, "stockade-probe: too many --allow-fd\n");
                exit(2);
            }
            g_opt.allow_fd[g_opt.allow_fd_count++] = (int)parse_num(flag, v, 0, 1 << 30);
        } else if (strcmp(flag, "--fork-limit") == 0) g_opt.fork_limit = parse_num(flag, v, 1, 100000);
        else if (strcmp(flag, "--mem-mb") == 0) g_opt.mem_mb = parse_num(flag, v, 1, 1 << 20);
        else if (strcmp(flag, "--disk-mb") == 0) g_opt.disk_mb = parse_num(flag, v, 1, 1 << 20);
        else if (strcmp(flag, "--nofile-limit") == 0) g_opt.nofile_limit = parse_num(flag, v, 16, 1 << 20);
        else if (strcmp(flag, "--timeout-ms") == 0) g_opt.timeout_ms = parse_num(flag, v, 100, 600000);
        else if (strcmp(flag, "--total-timeout-ms") == 0) g_opt.total_timeout_ms = parse_num(flag, v, 100, 3600000);
        else {
            fprintf(stderr, "stockade-probe: unknown option '%s'\n", a);
            usage(stderr);
            exit(2);
        }
    }
}

static bool selected(const char *name) {
    for (int i = 0; i < g_opt.skip_count; i++)
        if (name_matches(name, g_opt.skip[i])) return false;
    if (g_opt.only_count == 0) return true;
    for (int i = 0; i < g_opt.only_count; i++)
        if (name_matches(name, g_opt.only[i])) return true;
    return false;
}

/* ---- Runner ---------------------------------------------------------------------------------- */

static int g_passed, g_failed, g_skipped;

static void print_result(const char *name, enum probe_status st, const char *detail) {
    const char *word = st == PROBE_PASS ? "PASS" : st == PROBE_FAIL ? "FAIL" : "SKIP";
    if (st == PROBE_PASS) g_passed++;
    else if (st == PROBE_FAIL) g_failed++;
    else g_skipped++;
    printf("%s %s: %s\n", word, name, detail);
    fflush(stdout);
}

/* Reap whatever was reparented to us (we are a subreaper, or PID 1 of the sandbox). */
static void reap_orphans(void) {
    int status;
    while (waitpid(-1, &status, WNOHANG | __WALL) > 0) {
    }
}

static void run_check(const struct probe_check *c) {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) < 0) {
        print_result(c->name, PROBE_FAIL, "the probe could not make a pipe to run this check");
        return;
    }
    long started = now_ms();
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(fds[0]);
        close(fds[1]);
        char msg[160];
        snprintf(msg, sizeof msg, "the probe could not fork to run this check (%s)", errname(e));
        print_result(c->name, PROBE_FAIL, msg);
        return;
    }
    if (pid == 0) {
        close(fds[0]);
        setpgid(0, 0);
        prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
        signal(SIGPIPE, SIG_DFL);
        g_result_fd = fds[1];
        g_reported = false;
        c->fn(c);
        fflush(stdout);
        _exit(0);
    }
    setpgid(pid, pid);
    close(fds[1]);

    int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    long deadline = started + g_opt.timeout_ms;
    int status = 0;
    bool timed_out = false, exited = false;
    while (!exited) {
        pid_t r = waitpid(pid, &status, WNOHANG | __WALL);
        if (r == pid) {
            exited = true;
            break;
        }
        long left = deadline - now_ms();
        if (left <= 0) {
            timed_out = true;
            kill(-pid, SIGKILL);
            kill(pid, SIGKILL);
            while (waitpid(pid, &status, __WALL) < 0 && errno == EINTR) {
            }
            break;
        }
        if (pidfd >= 0) {
            struct pollfd p = {.fd = pidfd, .events = POLLIN};
            poll(&p, 1, (int)(left > 50 ? 50 : left));
        } else {
            struct timespec ts = {0, 2 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
    }
    if (pidfd >= 0) close(pidfd);
    /* Whatever the check left in its process group goes now. */
    kill(-pid, SIGKILL);
    reap_orphans();

    char rec[PROBE_DETAIL_MAX + 8];
    size_t got = 0;
    fcntl(fds[0], F_SETFL, O_NONBLOCK);
    for (;;) {
        ssize_t n = read(fds[0], rec + got, sizeof rec - 1 - got);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        got += (size_t)n;
        if (got >= sizeof rec - 1) break;
    }
    close(fds[0]);
    rec[got] = 0;

    if (timed_out) {
        char msg[PROBE_DETAIL_MAX + 100];
        snprintf(msg, sizeof msg, "did not finish within %ld ms (killed)%s%s", g_opt.timeout_ms,
                 got ? "; it had reported: " : "", got ? rec + 1 : "");
        print_result(c->name, PROBE_FAIL, msg);
    } else if (got == 0) {
        char msg[200];
        if (WIFSIGNALED(status))
            snprintf(msg, sizeof msg, "the check's process was killed by signal %d before it reported",
                     WTERMSIG(status));
        else
            snprintf(msg, sizeof msg, "the check's process exited with status %d without a result",
                     WEXITSTATUS(status));
        print_result(c->name, PROBE_FAIL, msg);
    } else {
        int st = rec[0] - '0';
        if (st < PROBE_PASS || st > PROBE_SKIP) st = PROBE_FAIL;
        print_result(c->name, (enum probe_status)st, rec + 1);
    }
    if (g_opt.verbose) {
        printf("# %s took %ld ms\n", c->name, now_ms() - started);
        fflush(stdout);
    }
}

static const struct probe_check *const g_tables[] = {
    probe_checks_env, probe_checks_priv, probe_checks_fs, probe_checks_net,
    probe_checks_syscall, probe_checks_res,
};

int main(int argc, char **argv) {
    parse_options(argc, argv);

    /* An --only that selects nothing is a typo that would make the run vacuous. */
    for (int i = 0; i < g_opt.only_count; i++) {
        bool any = name_matches("fd.leaks", g_opt.only[i]);
        for (size_t t = 0; t < sizeof g_tables / sizeof g_tables[0] && !any; t++)
            for (const struct probe_check *c = g_tables[t]; c->name && !any; c++)
                if (name_matches(c->name, g_opt.only[i])) any = true;
        if (!any) {
            fprintf(stderr, "stockade-probe: --only '%s' matches no check (see --list)\n", g_opt.only[i]);
            return 2;
        }
    }

    if (g_list_only) {
        printf("fd.leaks\n");
        for (size_t t = 0; t < sizeof g_tables / sizeof g_tables[0]; t++)
            for (const struct probe_check *c = g_tables[t]; c->name; c++) printf("%s\n", c->name);
        return 0;
    }

    /* fd.leaks first, in this process, before anything here opens a file descriptor. */
    char leak_detail[PROBE_DETAIL_MAX];
    int leak_status = PROBE_PASS;
    bool want_leaks = selected("fd.leaks");
    if (want_leaks) probe_check_fd_leaks(leak_detail, sizeof leak_detail, &leak_status);

    g_probe_pid = getpid();
    prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    /* A full disk or a small RLIMIT_FSIZE must give us errors, not kill us. */
    signal(SIGXFSZ, SIG_IGN);
    setvbuf(stdout, NULL, _IOLBF, 0);

    printf("# stockade-probe: pid %d, uid %d, gid %d, per-check deadline %ld ms\n", (int)getpid(),
           (int)getuid(), (int)getgid(), g_opt.timeout_ms);
    long started = now_ms();
    if (want_leaks) print_result("fd.leaks", (enum probe_status)leak_status, leak_detail);
    /* A total budget on top of each check's deadline: checks that would start after it ran out
     * are reported as failures, so a hanging sandbox cannot pass by timing out the probe. */
    for (size_t t = 0; t < sizeof g_tables / sizeof g_tables[0]; t++)
        for (const struct probe_check *c = g_tables[t]; c->name; c++) {
            if (!selected(c->name)) continue;
            if (now_ms() - started > g_opt.total_timeout_ms) {
                char msg[160];
                snprintf(msg, sizeof msg, "not run: the probe's total budget of %ld ms ran out", g_opt.total_timeout_ms);
                print_result(c->name, PROBE_FAIL, msg);
                continue;
            }
            run_check(c);
        }
    reap_orphans();
    printf("# %d skipped, %ld ms\n", g_skipped, now_ms() - started);
    printf("%d passed, %d failed\n", g_passed, g_failed);
    fflush(stdout);
    return g_failed == 0 ? 0 : 1;
}
