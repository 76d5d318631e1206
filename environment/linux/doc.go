// Package linux is go-dsynth's Linux build environment: every slot is a set
// of fresh namespaces (mount, pid, uts, ipc, net) whose init is the current
// binary re-executed with environment.InitArg.
//
// The init builds the slot root — a tmpfs with the template overlaid (or
// copied when overlayfs is unavailable), read-only bind mounts of the system
// directories (bind, then remount read-only), tmpfs work areas, a fresh
// /proc, a minimal /dev made of bind-mounted host nodes plus a private devpts
// — then pivot_root(2)s into it and detaches the old root, brings up the
// loopback interface (the only one the net namespace has), and drops the
// dangerous capabilities (the bounding set, the inheritable and ambient sets,
// plus no_new_privs) on the one thread that starts commands. Commands run as
// uid 0 but without CAP_SYS_ADMIN, CAP_SYS_CHROOT, CAP_MKNOD, CAP_SYS_PTRACE
// and the like, so they cannot mount, chroot, create devices or trace.
//
// The controller talks to the init over a socket pair: it sends the plan,
// then one request per command with the command's stdin, stdout and stderr
// descriptors attached. When a command exits, the init kills everything
// else in the slot (kill(-1)) so no daemon survives a phase. Cancelling a
// command kills the init, and the kernel then kills every process in the pid
// namespace; Pdeathsig does the same when the controller dies. All mounts
// live in the private mount namespace and vanish with it: the host's mount
// table never changes, and a SIGKILLed controller leaves only the empty slot
// directory and the state file, which Cleanup removes.
//
// Optional cgroup v2 limits (memory.max, cpu.max, pids.max) apply when the
// host's unified hierarchy delegates those controllers; otherwise the plan's
// limits are ignored and Sandbox.LimitsApplied reports false.
//
// Rootless mode: when the controller is not root, the init also gets a new
// user namespace that maps uid and gid 0 to the caller. Everything above
// works there, with these differences: only one uid and gid exist inside, so
// chown to any other owner fails (package staging that sets owners will
// fail); the build base and the template must be writable/readable by the
// caller; files the caller cannot read (/etc/shadow) are left out of the
// template; cgroup limits apply only if the caller owns a delegated cgroup.
//
// Known limit: a command may still create a nested user namespace (where the
// host allows unprivileged ones) and mount inside it; that cannot change the
// slot's own mounts or reach the host's files, because the old root is
// detached.
package linux
