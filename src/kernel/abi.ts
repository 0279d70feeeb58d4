/**
 * The proc connector ABI: every constant and offset the agent uses, in one place.
 *
 * Taken from include/uapi/linux/{netlink,connector,cn_proc}.h of Linux 6.6+ (the Debian 6.1
 * headers lack `struct proc_input` and PROC_EVENT_NONZERO_EXIT). Layouts are the same on every
 * 64-bit Linux; all fields are host-endian, and every platform Node runs Linux on here is little-endian.
 */

/** Socket constants. */
export const AF_NETLINK = 16;
export const SOCK_DGRAM = 2;
export const SOCK_CLOEXEC = 0o2000000;
export const NETLINK_CONNECTOR = 11;
export const SOL_SOCKET = 1;
export const SO_RCVBUF = 8;
export const SO_RCVBUFFORCE = 33;
export const SO_RCVTIMEO = 20;
export const MSG_DONTWAIT = 0x40;
export const MSG_TRUNC = 0x20;
export const MSG_WAITFORONE = 0x10000;

/** Connector ids of the proc connector (also its multicast group). */
export const CN_IDX_PROC = 1;
export const CN_VAL_PROC = 1;

/** netlink message types. */
export const NLMSG_NOOP = 1;
export const NLMSG_ERROR = 2;
export const NLMSG_DONE = 3;

/** Multicast ops (enum proc_cn_mcast_op). */
export const PROC_CN_MCAST_LISTEN = 1;
export const PROC_CN_MCAST_IGNORE = 2;

/** `what` values (enum proc_event.what). */
export const PROC_EVENT_NONE = 0x0;
export const PROC_EVENT_FORK = 0x1;
export const PROC_EVENT_EXEC = 0x2;
export const PROC_EVENT_UID = 0x4;
export const PROC_EVENT_GID = 0x40;
export const PROC_EVENT_SID = 0x80;
export const PROC_EVENT_PTRACE = 0x100;
export const PROC_EVENT_COMM = 0x200;
/** Filter-only flag (6.6+): in a subscription mask, "exits whose exit_code != 0". Never an event's `what`. */
export const PROC_EVENT_NONZERO_EXIT = 0x20000000;
export const PROC_EVENT_COREDUMP = 0x40000000;
export const PROC_EVENT_EXIT = 0x80000000;
/** The kernel's PROC_EVENT_ALL: every type plus NONZERO_EXIT; a socket with this mask also sees acks. */
export const PROC_EVENT_ALL =
  (PROC_EVENT_FORK |
    PROC_EVENT_EXEC |
    PROC_EVENT_UID |
    PROC_EVENT_GID |
    PROC_EVENT_SID |
    PROC_EVENT_PTRACE |
    PROC_EVENT_COMM |
    PROC_EVENT_NONZERO_EXIT |
    PROC_EVENT_COREDUMP |
    PROC_EVENT_EXIT) >>>
  0;

/** ptrace request values carried in a PTRACE event's tracer fields' meaning. */
export const PTRACE_ATTACH = 16;
export const PTRACE_DETACH = 17;

/** Sizes. */
export const NLMSG_HDRLEN = 16;
export const CN_MSG_LEN = 20;
export const PROC_EVENT_HEADER_LEN = 16;
export const PROC_EVENT_LEN = 40;
/** One event datagram: nlmsghdr + cn_msg + proc_event. */
export const EVENT_DATAGRAM_LEN = NLMSG_HDRLEN + CN_MSG_LEN + PROC_EVENT_LEN;
/** Length of the legacy (pre-6.6) subscription payload: a bare u32 op. */
export const MCAST_OP_LEN = 4;
/** Length of struct proc_input { u32 mcast_op; u32 event_type; } (6.6+). */
export const PROC_INPUT_LEN = 8;

/** nlmsghdr offsets (from the datagram start). */
export const NLH_LEN = 0;
export const NLH_TYPE = 4;
export const NLH_FLAGS = 6;
export const NLH_SEQ = 8;
export const NLH_PID = 12;

/** cn_msg offsets (from the datagram start). */
export const CN_IDX = NLMSG_HDRLEN + 0;
export const CN_VAL = NLMSG_HDRLEN + 4;
export const CN_SEQ = NLMSG_HDRLEN + 8;
export const CN_ACK = NLMSG_HDRLEN + 12;
export const CN_LEN = NLMSG_HDRLEN + 16;
export const CN_FLAGS = NLMSG_HDRLEN + 18;
export const CN_DATA = NLMSG_HDRLEN + CN_MSG_LEN;

/** proc_event offsets (from the datagram start). The u64 timestamp is not 8-aligned. */
export const EV_WHAT = CN_DATA + 0;
export const EV_CPU = CN_DATA + 4;
export const EV_TIMESTAMP = CN_DATA + 8;
/** Start of the event union; the union's members below are offsets from here. */
export const EV_DATA = CN_DATA + PROC_EVENT_HEADER_LEN;

/** Union member offsets (from EV_DATA). */
export const U_ACK_ERR = 0;
export const U_FORK_PARENT_PID = 0;
export const U_FORK_PARENT_TGID = 4;
export const U_FORK_CHILD_PID = 8;
export const U_FORK_CHILD_TGID = 12;
export const U_PROCESS_PID = 0;
export const U_PROCESS_TGID = 4;
export const U_ID_R = 8;
export const U_ID_E = 12;
export const U_PTRACE_TRACER_PID = 8;
export const U_PTRACE_TRACER_TGID = 12;
export const U_COMM = 8;
export const COMM_LEN = 16;
export const U_COREDUMP_PARENT_PID = 8;
export const U_COREDUMP_PARENT_TGID = 12;
export const U_EXIT_CODE = 8;
export const U_EXIT_SIGNAL = 12;
export const U_EXIT_PARENT_PID = 16;
export const U_EXIT_PARENT_TGID = 20;

/** The cpu value kernels before 5.2 put in an ack (ev->cpu = -1); newer ones number acks like events. */
export const ACK_CPU = 0xffffffff;
