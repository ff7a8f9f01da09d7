/*
 * LD_PRELOAD shim for hostile.listen: plays a kernel without IPv6 for the
 * edge's listener. TA_SHIM_NO_IPV6=socket: socket(AF_INET6, ...) fails
 * with EAFNOSUPPORT (what a kernel booted with ipv6.disable=1 answers);
 * =bind: binding an AF_INET6 socket to :: fails with EADDRNOTAVAIL.
 * Anything else passes through.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static const char *
mode(void)
{
	const char *m = getenv("TA_SHIM_NO_IPV6");

	return m ? m : "";
}

int
socket(int domain, int type, int protocol)
{
	int (*real)(int, int, int) =
	    (int (*)(int, int, int))dlsym(RTLD_NEXT, "socket");

	if (domain == AF_INET6 && strcmp(mode(), "socket") == 0) {
		errno = EAFNOSUPPORT;
		return -1;
	}
	return real(domain, type, protocol);
}

int
bind(int fd, const struct sockaddr *sa, socklen_t len)
{
	int (*real)(int, const struct sockaddr *, socklen_t) = (int (*)(
	    int, const struct sockaddr *, socklen_t))dlsym(RTLD_NEXT, "bind");

	if (sa && sa->sa_family == AF_INET6 && strcmp(mode(), "bind") == 0 &&
	    IN6_IS_ADDR_UNSPECIFIED(
	        &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr)) {
		errno = EADDRNOTAVAIL;
		return -1;
	}
	return real(fd, sa, len);
}
