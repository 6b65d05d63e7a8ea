// Declarations Glibc's Swift module does not export: epoll, eventfd, accept4 and a few
// constants that import as enums. Declarations and one-line wrappers only; no logic.
#ifndef C_PROMPT_EVENTS_LINUX_H
#define C_PROMPT_EVENTS_LINUX_H

#ifdef __linux__
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/file.h>

int cpe_accept4(int fd, struct sockaddr *address, socklen_t *length, int flags);

static inline int cpe_sock_nonblock(void) { return SOCK_NONBLOCK; }
static inline int cpe_sock_cloexec(void) { return SOCK_CLOEXEC; }
static inline int cpe_sock_stream(void) { return SOCK_STREAM; }
static inline int cpe_msg_nosignal(void) { return MSG_NOSIGNAL; }
static inline uint32_t cpe_epollin(void) { return EPOLLIN; }
static inline uint32_t cpe_epollout(void) { return EPOLLOUT; }
static inline uint32_t cpe_epollrdhup(void) { return EPOLLRDHUP; }
static inline uint32_t cpe_epollhup(void) { return EPOLLHUP; }
static inline uint32_t cpe_epollerr(void) { return EPOLLERR; }
#endif

#endif
