/*
 * probe.h — stockade-probe, Stockade's security probe.
 *
 * The probe runs inside a sandbox and tries, harmlessly, each class of escape. Every check runs in
 * a child process of its own (its own process group) with a deadline, so a check that hangs,
 * crashes or changes its process (namespaces, personality, root) cannot affect the others; the
 * parent prints one line per check:
 *
 *     PASS <name>: <what was tried and what happened>
 *     FAIL <name>: ...
 *     SKIP <name>: <why>
 *
 * and a closing line `N passed, N failed`. Exit status: 0 when nothing failed, 1 when a check
 * failed, 2 on a usage error.
 *
 * Each check documents its PASS criteria in a comment above its function: a check PASSes when the
 * defence held, FAILs when the escape (or a step towards it) worked, and SKIPs when the parameter
 * it needs was not given or a resource limit lies above the probe's cap.
 *
 * Harmless by construction, even when run outside a sandbox as root: no destructive writes (only
 * uniquely named canary files, removed at once if creating them unexpectedly succeeds; opening a
 * file for writing never writes to it; the only writes to /proc are ones the kernel refuses once a
 * user namespace is set up), every system call that could change the host is made with arguments
 * the kernel rejects, other processes are only probed for permission (never attached to, except
 * the probe's own), bounded resource use (--fork-limit, --mem-mb, --disk-mb, --nofile-limit), no
 * network traffic beyond loopback (net.outside only connects when there is no route out), a
 * deadline per check (--timeout-ms, 3 s) and a budget for the run (--total-timeout-ms, 30 s; a
 * normal run takes well under a second).
 */
#ifndef STOCKADE_PROBE_H
#define STOCKADE_PROBE_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define PROBE_MAX_LIST 32
#define PROBE_DETAIL_MAX 1800

/* Command-line options, read-only once parsed. */
struct probe_options {
    long expect_user_uid;           /* --expect-user-uid N; -1: not given */
    int host_port;                  /* --host-port PORT; 0: not given */
    const char *host_abstract;      /* --host-abstract NAME */
    long host_pid;                  /* --host-pid N; -1: not given */
    const char *canary_env[PROBE_MAX_LIST];
    int canary_env_count;
    const char *host_file[PROBE_MAX_LIST];
    int host_file_count;
    const char *other_user_dir[PROBE_MAX_LIST];
    int other_user_dir_count;
    const char *writable[PROBE_MAX_LIST];
    int writable_count;
    const char *skip[PROBE_MAX_LIST * 2];
    int skip_count;
    const char *only[PROBE_MAX_LIST * 2];
    int only_count;
    int allow_fd[PROBE_MAX_LIST];
    int allow_fd_count;
    long fork_limit;                /* --fork-limit N (default 256) */
    long mem_mb;                    /* --mem-mb N (default 128) */
    long disk_mb;                   /* --disk-mb N (default 32) */
    long nofile_limit;              /* --nofile-limit N (default 4096) */
    long timeout_ms;                /* --timeout-ms N: per-check deadline (default 3000) */
    long total_timeout_ms;          /* --total-timeout-ms N: budget of the whole run (default 30000) */
    bool verbose;                   /* --verbose: a '#' line per check with its duration */
};

extern struct probe_options g_opt;
/* The pid of the probe's main process (checks run in its children). */
extern pid_t g_probe_pid;

/* Results. A check reports exactly one of these (the first call wins) and returns. */
enum probe_status { PROBE_PASS = 0, PROBE_FAIL = 1, PROBE_SKIP = 2 };
void pass(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void skip(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A check: `fn` runs in a fresh child process; `arg` is for table-driven checks. */
struct probe_check {
    const char *name;
    void (*fn)(const struct probe_check *self);
    const void *arg;
};

/* The check tables of each file, terminated by an entry with a NULL name. */
extern const struct probe_check probe_checks_env[];
extern const struct probe_check probe_checks_fs[];
extern const struct probe_check probe_checks_priv[];
extern const struct probe_check probe_checks_syscall[];
extern const struct probe_check probe_checks_net[];
extern const struct probe_check probe_checks_res[];

/* The in-process check, run before anything opens a file descriptor. */
void probe_check_fd_leaks(char *detail, size_t cap, int *status);

/* ---- Text accumulation for details ---------------------------------------------------------- */
struct sbuf {
    char buf[PROBE_DETAIL_MAX];
    size_t len;
    int items;            /* counts add() calls for "; " separators */
};
void sb_init(struct sbuf *b);
void sb_add(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));  /* "; "-separated */
void sb_cat(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));  /* raw append */

/* ---- Helpers (util.c) -------------------------------------------------------------------------- */
const char *errname(int err);                      /* "EPERM", "ENOENT", ... or "errno N" */
long now_ms(void);
/* Read a whole small file into buf (NUL-terminated). Returns bytes read or -1 with errno. */
ssize_t read_file(const char *path, char *buf, size_t cap);
/* The value after "Key:" in /proc/<pid>/status ("self" for pid <= 0), trimmed. */
bool proc_status_field(long pid, const char *key, char *out, size_t cap);
/* A unique canary path under dir: dir/.stockade-probe-<pid>-<counter>-<tag>. */
void canary_path(char *out, size_t cap, const char *dir, const char *tag);
/* Try to create a canary file in dir; removes it if created. Returns 0 when creation was refused
 * (errno in *err), 1 when it succeeded (and was removed). */
int try_create_in(const char *dir, int *err);
/* Whether a path was named by --writable (or is /tmp or /dev/shm, allowed by design). */
bool is_allowed_writable(const char *path);
/* Fork a child that runs fn(arg) and exits with its return value; wait up to timeout_ms.
 * Returns the wait status, or -1 on fork failure (errno set); on timeout the child is killed
 * and *timed_out set. */
int run_in_child(int (*fn)(void *), void *arg, long timeout_ms, bool *timed_out);
/* Whether name matches a --only/--skip pattern: exact, or prefix when the pattern ends in '*' or '.'. */
bool name_matches(const char *name, const char *pattern);
/* List the numeric entries of /proc into pids (at most cap). */
int list_pids(long *pids, int cap);
/* Default host paths that must be invisible, plus --host-file ones. */
int host_paths(const char **out, int cap);

#endif
