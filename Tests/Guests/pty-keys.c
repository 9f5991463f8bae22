// pty-keys: runs a command on a new pseudo-terminal, as a person at a terminal
// would, and types keys once its output shows a text. The harness uses it for
// what only a terminal gets: cleave-boot's raw mode and its Ctrl-A x escape,
// `cleave-boot console` and its Ctrl-] detach.
//
//   pty-keys WAIT-TEXT KEYS [WAIT-TEXT KEYS...] SECONDS -- COMMAND [ARG...]
//
// KEYS takes \xHH escapes (Ctrl-A x is "\x01x"). Each pair in turn: once the
// output shows WAIT-TEXT, KEYS are typed; the next WAIT-TEXT must show after
// that (output from before the typing does not count). The command's output
// is copied to stdout. Exits with the command's status (128 + signal when
// killed), or 124 when it outlives SECONDS (it is killed then).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static size_t unescape(const char *in, char *out) {
    size_t n = 0;
    while (*in) {
        if (in[0] == '\\' && in[1] == 'x' && in[2] && in[3]) {
            char hex[3] = {in[2], in[3], 0};
            out[n++] = (char)strtol(hex, NULL, 16);
            in += 4;
        } else {
            out[n++] = *in++;
        }
    }
    return n;
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    int dashes = 1;
    while (dashes < argc && strcmp(argv[dashes], "--") != 0) dashes++;
    // WAIT KEYS pairs and SECONDS before "--", a command after it.
    if (dashes >= argc - 1 || dashes < 4 || (dashes - 2) % 2 != 0) {
        fprintf(stderr, "usage: pty-keys WAIT-TEXT KEYS [WAIT-TEXT KEYS...] SECONDS -- COMMAND [ARG...]\n");
        return 2;
    }
    int pairs = (dashes - 2) / 2, pair = 0;
    const char *wait_text = argv[1];
    char keys[256];
    size_t key_count = unescape(argv[2], keys);
    double deadline = now() + atof(argv[dashes - 1]);
    char **command = argv + dashes + 1;

    int master = posix_openpt(O_RDWR | O_NOCTTY);
    if (master < 0 || grantpt(master) < 0 || unlockpt(master) < 0) { perror("pty-keys: posix_openpt"); return 2; }
    const char *slave_name = ptsname(master);
    pid_t child = fork();
    if (child < 0) { perror("pty-keys: fork"); return 2; }
    if (child == 0) {
        setsid();
        int slave = open(slave_name, O_RDWR);
        if (slave < 0) { perror("pty-keys: open slave"); _exit(127); }
        ioctl(slave, TIOCSCTTY, 0);
        dup2(slave, 0); dup2(slave, 1); dup2(slave, 2);
        if (slave > 2) close(slave);
        close(master);
        execvp(command[0], command);
        perror("pty-keys: exec");
        _exit(127);
    }

    char seen[8192] = {0};
    size_t seen_len = 0;
    int typed = 0, status = 0;
    for (;;) {
        if (now() > deadline) {
            kill(child, SIGKILL);
            waitpid(child, &status, 0);
            fprintf(stderr, "pty-keys: timed out after %s s\n", argv[dashes - 1]);
            return 124;
        }
        struct pollfd p = {master, POLLIN, 0};
        int ready = poll(&p, 1, 100);
        if (ready > 0) {
            char buf[1024];
            ssize_t n = read(master, buf, sizeof buf);
            if (n <= 0) break; // EIO: every slave closed, the command is gone
            fwrite(buf, 1, (size_t)n, stdout);
            fflush(stdout);
            // Keep the tail, so a text split across reads is still found.
            if (seen_len + (size_t)n >= sizeof seen) {
                size_t keep = sizeof seen / 2;
                memmove(seen, seen + seen_len - keep, keep);
                seen_len = keep;
            }
            size_t copy = (size_t)n < sizeof seen - 1 - seen_len ? (size_t)n : sizeof seen - 1 - seen_len;
            memcpy(seen + seen_len, buf, copy);
            seen_len += copy;
            seen[seen_len] = 0;
            if (!typed && memmem(seen, seen_len, wait_text, strlen(wait_text))) {
                if (write(master, keys, key_count) != (ssize_t)key_count) perror("pty-keys: write");
                if (++pair == pairs) {
                    typed = 1;
                } else {
                    wait_text = argv[1 + 2 * pair];
                    key_count = unescape(argv[2 + 2 * pair], keys);
                    seen_len = 0;
                    seen[0] = 0;
                }
            }
        }
        if (waitpid(child, &status, WNOHANG) == child) {
            child = 0;
            break;
        }
    }
    if (child) waitpid(child, &status, 0);
    // What the command wrote just before it ended is still in the pty.
    char rest[1024];
    ssize_t n;
    while (poll(&(struct pollfd){master, POLLIN, 0}, 1, 0) > 0 && (n = read(master, rest, sizeof rest)) > 0)
        fwrite(rest, 1, (size_t)n, stdout);
    fflush(stdout);
    if (!typed) fprintf(stderr, "pty-keys: never saw \"%s\"\n", wait_text);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
