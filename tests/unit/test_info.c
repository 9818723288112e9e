/* test_info: init/info.c's answer against the running kernel, in a private network namespace
 * (root): an MPTCP connection over loopback shows as one msk line and its subflow. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "check.h"
#include "info.h"

#ifndef IPPROTO_MPTCP
#define IPPROTO_MPTCP 262
#endif

static char out[INFO_OUT_MAX];

int main(void)
{
	struct check c = { "info", 0 };
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(5999) };
	socklen_t alen = sizeof(a);
	int l, s, t, one = 1;
	char want[64], line[256], *p, token[16] = "";
	size_t n;

	n = info_answer("what", out, sizeof(out));
	CHECK(&c, "an unknown request gets an error line and end", strstr(out, "error unknown request") == out &&
	      n == strlen(out) && strcmp(out + n - 4, "end\n") == 0);
	if (getuid() != 0 || unshare(CLONE_NEWNET) != 0 || system("ip link set lo up") != 0) {
		printf("FAIL: info: needs root and a private network namespace\n");
		return 1;
	}
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	l = socket(AF_INET, SOCK_STREAM, IPPROTO_MPTCP);
	s = socket(AF_INET, SOCK_STREAM, IPPROTO_MPTCP);
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (l < 0 || s < 0 || bind(l, (void *)&a, sizeof(a)) != 0 || listen(l, 1) != 0 ||
	    connect(s, (void *)&a, sizeof(a)) != 0 || (t = accept(l, NULL, NULL)) < 0) {
		printf("FAIL: info: no MPTCP connection over loopback (kernel without MPTCP?)\n");
		return 1;
	}
	(void)!write(s, "hello", 5);
	usleep(50000);
	getsockname(s, (void *)&a, &alen);
	snprintf(want, sizeof(want), "local=127.0.0.1:%u remote=127.0.0.1:5999", ntohs(a.sin_port));
	n = info_answer("conns", out, sizeof(out));
	CHECK(&c, "the answer ends with end", n == strlen(out) && strcmp(out + n - 4, "end\n") == 0);
	for (p = out; (p = strstr(p, "msk token=")); p++) {
		sscanf(p, "%255[^\n]", line);
		if (strstr(line, want))
			sscanf(line, "msk token=%15s", token);
	}
	CHECK(&c, "the client's MPTCP socket is listed with its addresses", token[0]);
	snprintf(want, sizeof(want), "sf token=%s id=0 local=127.0.0.1:%u", token, ntohs(a.sin_port));
	CHECK(&c, "its subflow is listed with the same token", token[0] && strstr(out, want));
	CHECK(&c, "the subflow's sent bytes are counted", strstr(strstr(out, want) ? strstr(out, want) : out, " sent=5 "));
	CHECK(&c, "the listener is left out", !strstr(out, "local=127.0.0.1:5999 remote=0.0.0.0:0"));
	n = info_answer("conns", out, 64);
	CHECK(&c, "an answer too long for the buffer says truncated", n < 64 && strstr(out, "truncated\nend\n"));
	printf("%s", info_answer("conns", out, sizeof(out)) ? out : "");
	close(t);
	close(s);
	close(l);
	return CHECK_DONE(&c);
}
