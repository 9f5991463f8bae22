// The init system's side of sd_notify(3) for the service checks (host side,
// in the board): binds a unix datagram socket at PATH and prints every line
// of every datagram received as "CLEAVE-NOTIFY <seconds since start> <line>"
// until SECONDS have passed or SIGTERM arrives.
//   notify-listen PATH SECONDS
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop;
static void on_term(int s) { (void)s; stop = 1; }

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    if (argc != 3) { fprintf(stderr, "usage: notify-listen PATH SECONDS\n"); return 2; }
    struct sockaddr_un address = { .sun_family = AF_UNIX };
    if (strlen(argv[1]) >= sizeof address.sun_path) { fprintf(stderr, "notify-listen: path too long\n"); return 2; }
    strcpy(address.sun_path, argv[1]);
    unlink(argv[1]);
    int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&address, sizeof address) < 0) { perror("notify-listen: socket/bind"); return 1; }
    signal(SIGTERM, on_term);
    setvbuf(stdout, NULL, _IOLBF, 0);
    double start = now(), limit = atof(argv[2]);
    printf("CLEAVE-NOTIFY 0.000 listening\n");
    while (!stop && now() - start < limit) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        if (poll(&p, 1, 100) <= 0) continue;
        char buffer[4097];
        ssize_t n = recv(fd, buffer, sizeof buffer - 1, 0);
        if (n <= 0) continue;
        buffer[n] = 0;
        double t = now() - start;
        for (char *line = strtok(buffer, "\n"); line; line = strtok(NULL, "\n")) printf("CLEAVE-NOTIFY %.3f %s\n", t, line);
    }
    unlink(argv[1]);
    return 0;
}
