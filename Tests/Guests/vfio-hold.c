// In the board (Tests/QEMUVirt/vfio-hold-probe; docs/kernel-facts.md §36):
// a process that holds a no-IOMMU VFIO group, attached to a container, and
// with MODE "device" the device's fd too, with "device-only" the device's
// fd and its group fd closed, for SECONDS, as a program other than the VMM
// might. Prints CLEAVE-VH-HOLD once it holds them.
//
//   vfio-hold GROUP-PATH DEVICE-NAME group|device|device-only SECONDS
#include <fcntl.h>
#include <linux/vfio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc != 5 || (strcmp(argv[3], "group") && strcmp(argv[3], "device") && strcmp(argv[3], "device-only"))) {
        fprintf(stderr, "usage: vfio-hold GROUP-PATH DEVICE-NAME group|device|device-only SECONDS\n");
        return 2;
    }
    int container = open("/dev/vfio/vfio", O_RDWR);
    if (container < 0) { perror("vfio-hold: /dev/vfio/vfio"); return 1; }
    int group = open(argv[1], O_RDWR);
    if (group < 0) { perror("vfio-hold: group"); return 1; }
    if (ioctl(group, VFIO_GROUP_SET_CONTAINER, &container) < 0) { perror("vfio-hold: VFIO_GROUP_SET_CONTAINER"); return 1; }
    if (ioctl(container, VFIO_SET_IOMMU, 8 /* VFIO_NOIOMMU_IOMMU */) < 0) { perror("vfio-hold: VFIO_SET_IOMMU"); return 1; }
    int device = -1;
    if (strcmp(argv[3], "group")) {
        device = ioctl(group, VFIO_GROUP_GET_DEVICE_FD, argv[2]);
        if (device < 0) { perror("vfio-hold: VFIO_GROUP_GET_DEVICE_FD"); return 1; }
    }
    if (!strcmp(argv[3], "device-only")) { close(group); close(container); group = -1; }
    printf("CLEAVE-VH-HOLD pid=%d mode=%s group=%d device=%d\n", getpid(), argv[3], group, device);
    fflush(stdout);
    sleep(atoi(argv[4]));
    return 0;
}
