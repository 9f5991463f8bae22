import CLinux

/// A pidfd of another process (pidfd_open, Linux 5.3), owned, to wait until
/// its whole thread group has exited: the kernel makes the pidfd readable
/// only then (kernel/pid.c `pidfd_poll`, `thread_group_exited`: the leader a
/// zombie and no other thread left), which is after the last thread has
/// closed the process's files (`exit_task_work` runs before `exit_notify`,
/// docs/kernel-facts.md §33, §34). Works for a process that is not our
/// child and for a zombie leader; needs no reaping.
public final class ProcessExitWatch {
    let fd: FileDescriptor
    public let pid: Int32

    /// Nil with the errno when there is no pidfd: ESRCH when the process is
    /// gone (reaped), ENOSYS on a kernel without pidfd_open, EINVAL when
    /// `pid` is not a thread-group leader.
    public static func open(pid: Int32) -> Result<ProcessExitWatch, Errno> {
        let r = cleave_pidfd_open(pid)
        if r < 0 { return .failure(Errno(-r)) }
        return .success(ProcessExitWatch(fd: FileDescriptor(adopting: r), pid: pid))
    }

    private init(fd: consuming FileDescriptor, pid: Int32) {
        self.fd = fd
        self.pid = pid
    }

    /// Waits up to `milliseconds` for the thread group to have exited: true
    /// when it has, false at the timeout, EINTR when a signal came first (a
    /// caller that handles SIGTERM looks at it and waits again or stops).
    public func wait(milliseconds: Int32) -> Result<Bool, Errno> {
        let r = cleave_poll_in(fd.rawValue, max(0, milliseconds))
        if r < 0 { return .failure(Errno(-r)) }
        return .success(r > 0)
    }
}
