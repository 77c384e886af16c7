/* madoguchi_loadgen: a closed-loop HTTP/1.1 load generator for the
 * benchmark (bench/driver.py). One thread, non-blocking sockets, epoll,
 * keep-alive, a fixed number of connections each with one request in
 * flight. Bodies are files posted round-robin; a file named *.rev.der goes
 * to /v1/revocations, *.val.der to /v1/validity-checks, others to --path.
 * Prints one JSON line: requests/s, latency percentiles, status histogram.
 * --get-paths FILE instead sends GET requests, one per line of FILE (a
 * path), round-robin (the receipts benchmark's proofs).
 *
 * --idle N --hold S instead opens N keep-alive connections, makes one
 * request on each (the first body, or GET /healthz), keeps them open S
 * seconds and reports how many stayed open. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define RBUF 65536
#define IDLE_RAMP 64 /* connections being set up at once in --idle mode */
#define MAX_BODY (16 * 1024 * 1024)

struct body {
	char *req; /* the whole HTTP request */
	size_t len;
};

enum cstate { C_IDLE, C_CONNECTING, C_SENDING, C_RECEIVING, C_DONE };

struct conn {
	int fd;
	enum cstate state;
	const struct body *b;
	size_t sent;
	char rbuf[RBUF];
	size_t rlen;
	double t0;
};

struct opts {
	const char *host;
	int port;
	const char *path;
	const char *bodies;
	const char *get_paths;
	const char *content_type;
	int concurrency;
	double duration;
	long requests;
	double rate;    /* requests/s; 0: as fast as answered */
	double timeout; /* seconds for one request */
	int idle;
	double hold;
};

struct stats {
	uint32_t *lat_us;
	size_t n, cap;
	long status[600];
	long errors;
	long reconnects;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int usage(void)
{
	fputs("usage: madoguchi_loadgen --port PORT --bodies DIR|FILE [--host 127.0.0.1]\n"
	      "         [--path /v1/validity-checks] [--concurrency 16]\n"
	      "         [--duration SECONDS | --requests N] [--rate PER_SECOND]\n"
	      "         [--content-type application/pkcs7-mime] [--timeout 30]\n"
	      "       madoguchi_loadgen --port PORT --get-paths FILE [the same options]\n"
	      "       madoguchi_loadgen --port PORT --idle N --hold SECONDS [--bodies DIR|FILE]\n",
	      stderr);
	return 2;
}

static int read_file(const char *path, char **out, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;
	int rc = -1;

	if (f == NULL)
		return -1;
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || n > MAX_BODY || fseek(f, 0, SEEK_SET) != 0)
		goto out;
	if ((buf = malloc((size_t)n + 1)) == NULL)
		goto out;
	if (n > 0 && fread(buf, 1, (size_t)n, f) != (size_t)n)
		goto out;
	*out = buf;
	*len = (size_t)n;
	buf = NULL;
	rc = 0;
out:
	free(buf);
	fclose(f);
	return rc;
}

static int ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && strcmp(s + a - b, suffix) == 0;
}

static int make_body(struct body *b, const struct opts *o, const char *file, const char *name)
{
	char *data = NULL, head[512];
	size_t len;
	const char *path = o->path;
	int h;

	if (read_file(file, &data, &len) == -1) {
		fprintf(stderr, "loadgen: cannot read %s\n", file);
		return -1;
	}
	if (ends_with(name, ".rev.der"))
		path = "/v1/revocations";
	else if (ends_with(name, ".val.der"))
		path = "/v1/validity-checks";
	h = snprintf(head, sizeof(head),
		     "POST %s HTTP/1.1\r\nHost: %s:%d\r\nContent-Type: %s\r\nAccept-Language: en\r\n"
		     "Content-Length: %zu\r\n\r\n",
		     path, o->host, o->port, o->content_type, len);
	if (h < 0 || (size_t)h >= sizeof(head) || (b->req = malloc((size_t)h + len)) == NULL) {
		free(data);
		return -1;
	}
	memcpy(b->req, head, (size_t)h);
	memcpy(b->req + h, data, len);
	b->len = (size_t)h + len;
	free(data);
	return 0;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* --get-paths: one GET request per line of the file. */
static int load_gets(const struct opts *o, struct body **out, size_t *n)
{
	char *data = NULL, *line, *save = NULL, head[1024];
	struct body *v = NULL;
	size_t len, k = 0, cap = 0;
	int h;

	if (read_file(o->get_paths, &data, &len) == -1) {
		fprintf(stderr, "loadgen: cannot read %s\n", o->get_paths);
		return -1;
	}
	data[len] = '\0';
	for (line = strtok_r(data, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		if (k == cap) {
			cap = cap ? 2 * cap : 256;
			struct body *nv = realloc(v, cap * sizeof(*v));
			if (nv == NULL)
				goto fail;
			v = nv;
		}
		h = snprintf(head, sizeof(head), "GET %s HTTP/1.1\r\nHost: %s:%d\r\nAccept-Language: en\r\n\r\n", line,
			     o->host, o->port);
		if (h < 0 || (size_t)h >= sizeof(head) || (v[k].req = malloc((size_t)h)) == NULL)
			goto fail;
		memcpy(v[k].req, head, (size_t)h);
		v[k].len = (size_t)h;
		k++;
	}
	free(data);
	if (k == 0) {
		fprintf(stderr, "loadgen: no paths in %s\n", o->get_paths);
		free(v);
		return -1;
	}
	*out = v;
	*n = k;
	return 0;
fail:
	for (size_t i = 0; i < k; i++)
		free(v[i].req);
	free(v);
	free(data);
	return -1;
}

/* The bodies: every regular file of a directory, by name, or one file. */
static int load_bodies(const struct opts *o, struct body **out, size_t *n)
{
	struct stat sb;
	struct body *v = NULL;
	char **names = NULL, path[4096];
	size_t k = 0, cap = 0, i;
	DIR *d = NULL;
	struct dirent *e;
	int rc = -1;

	if (stat(o->bodies, &sb) == -1) {
		fprintf(stderr, "loadgen: %s: %s\n", o->bodies, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(sb.st_mode)) {
		if ((v = calloc(1, sizeof(*v))) == NULL || make_body(v, o, o->bodies, o->bodies) == -1) {
			free(v);
			return -1;
		}
		*out = v;
		*n = 1;
		return 0;
	}
	if ((d = opendir(o->bodies)) == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if (k == cap) {
			cap = cap ? 2 * cap : 256;
			char **nn = realloc(names, cap * sizeof(*names));
			if (nn == NULL)
				goto out;
			names = nn;
		}
		if ((names[k] = strdup(e->d_name)) == NULL)
			goto out;
		k++;
	}
	if (k == 0) {
		fprintf(stderr, "loadgen: no files in %s\n", o->bodies);
		goto out;
	}
	qsort(names, k, sizeof(*names), name_cmp);
	if ((v = calloc(k, sizeof(*v))) == NULL)
		goto out;
	for (i = 0; i < k; i++) {
		snprintf(path, sizeof(path), "%s/%s", o->bodies, names[i]);
		if (make_body(&v[i], o, path, names[i]) == -1)
			goto out;
	}
	*out = v;
	*n = k;
	v = NULL;
	rc = 0;
out:
	if (v != NULL)
		for (i = 0; i < k; i++)
			free(v[i].req);
	free(v);
	for (i = 0; i < k; i++)
		free(names[i]);
	free(names);
	closedir(d);
	return rc;
}

static int open_conn(const struct opts *o, int ep, struct conn *c)
{
	struct sockaddr_in sa;
	struct epoll_event ev;
	int one = 1;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)o->port);
	if (inet_pton(AF_INET, o->host, &sa.sin_addr) != 1)
		return -1;
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd == -1)
		return -1;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) == -1 && errno != EINPROGRESS) {
		close(c->fd);
		c->fd = -1;
		return -1;
	}
	c->state = C_CONNECTING;
	c->rlen = 0;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLOUT | EPOLLIN;
	ev.data.ptr = c;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) == -1) {
		close(c->fd);
		c->fd = -1;
		return -1;
	}
	return 0;
}

static void close_conn(struct conn *c)
{
	if (c->fd != -1)
		close(c->fd);
	c->fd = -1;
	c->state = C_IDLE;
}

static void want(int ep, struct conn *c, uint32_t events)
{
	struct epoll_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = events;
	ev.data.ptr = c;
	epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
}

/* 1: a whole response is in rbuf (status, keep-alive and length set),
 * 0: need more, -1: unparseable. */
static int parse_response(struct conn *c, int *status, int *keep, size_t *total)
{
	char *end, *p, *line;
	long clen = -1;
	size_t hlen;

	c->rbuf[c->rlen < RBUF ? c->rlen : RBUF - 1] = '\0';
	end = memmem(c->rbuf, c->rlen, "\r\n\r\n", 4);
	if (end == NULL)
		return c->rlen >= RBUF - 1 ? -1 : 0;
	hlen = (size_t)(end - c->rbuf) + 4;
	if (c->rlen < 12 || strncmp(c->rbuf, "HTTP/1.", 7) != 0)
		return -1;
	*status = atoi(c->rbuf + 9);
	*keep = c->rbuf[7] == '1';
	for (line = c->rbuf; line < end;) {
		p = memchr(line, '\n', (size_t)(end - line));
		if (p == NULL)
			break;
		line = p + 1;
		if (strncasecmp(line, "content-length:", 15) == 0)
			clen = strtol(line + 15, NULL, 10);
		else if (strncasecmp(line, "connection:", 11) == 0) {
			const char *v = line + 11;
			while (*v == ' ')
				v++;
			if (strncasecmp(v, "close", 5) == 0)
				*keep = 0;
		} else if (strncasecmp(line, "transfer-encoding:", 18) == 0)
			return -1; /* not produced by the daemon */
	}
	if (clen < 0 || hlen + (size_t)clen > RBUF)
		return -1;
	if (c->rlen < hlen + (size_t)clen)
		return 0;
	*total = hlen + (size_t)clen;
	return 1;
}

static int record(struct stats *s, double lat)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 65536;
		uint32_t *v = realloc(s->lat_us, cap * sizeof(*v));
		if (v == NULL)
			return -1;
		s->lat_us = v;
		s->cap = cap;
	}
	double us = lat * 1e6;
	s->lat_us[s->n++] = us > 4e9 ? 4000000000u : (uint32_t)us;
	return 0;
}

static int u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

static double pct(const struct stats *s, double p)
{
	if (s->n == 0)
		return 0;
	size_t i = (size_t)(p * (double)(s->n - 1) + 0.5);
	return s->lat_us[i];
}

static void report(const struct opts *o, struct stats *s, double elapsed, size_t nbodies)
{
	double sum = 0;
	int first = 1;

	qsort(s->lat_us, s->n, sizeof(*s->lat_us), u32_cmp);
	for (size_t i = 0; i < s->n; i++)
		sum += s->lat_us[i];
	printf("{\"mode\":\"load\",\"requests\":%zu,\"errors\":%ld,\"reconnects\":%ld,"
	       "\"elapsed_s\":%.3f,\"rps\":%.1f,\"concurrency\":%d,\"rate\":%.1f,\"bodies\":%zu,"
	       "\"latency_us\":{\"mean\":%.0f,\"p50\":%.0f,\"p90\":%.0f,\"p99\":%.0f,\"max\":%.0f},"
	       "\"status\":{",
	       s->n, s->errors, s->reconnects, elapsed, elapsed > 0 ? (double)s->n / elapsed : 0, o->concurrency,
	       o->rate, nbodies, s->n ? sum / (double)s->n : 0, pct(s, 0.50), pct(s, 0.90), pct(s, 0.99),
	       s->n ? (double)s->lat_us[s->n - 1] : 0);
	for (int i = 0; i < 600; i++)
		if (s->status[i]) {
			printf("%s\"%d\":%ld", first ? "" : ",", i, s->status[i]);
			first = 0;
		}
	printf("}}\n");
	fflush(stdout);
}

static int run_load(const struct opts *o)
{
	struct body *bodies = NULL;
	size_t nbodies = 0, next = 0;
	struct conn *conns = NULL;
	struct stats s;
	struct epoll_event evs[256];
	long issued = 0;
	double start, stop_at;
	int ep = -1, rc = 1, active = 0;

	memset(&s, 0, sizeof(s));
	if ((o->get_paths != NULL ? load_gets(o, &bodies, &nbodies) : load_bodies(o, &bodies, &nbodies)) == -1)
		goto out;
	if ((conns = calloc((size_t)o->concurrency, sizeof(*conns))) == NULL || (ep = epoll_create1(0)) == -1)
		goto out;
	for (int i = 0; i < o->concurrency; i++)
		conns[i].fd = -1;
	start = now_s();
	stop_at = o->duration > 0 ? start + o->duration : 0;

	for (;;) {
		double t = now_s();
		int stopping = (stop_at > 0 && t >= stop_at) || (o->requests > 0 && issued >= o->requests);
		int wait_ms = 100;

		/* give idle connections their next request */
		for (int i = 0; i < o->concurrency && !stopping; i++) {
			struct conn *c = &conns[i];
			if (c->state != C_IDLE && c->state != C_DONE)
				continue;
			if (o->rate > 0 && t < start + (double)issued / o->rate) {
				double d = (start + (double)issued / o->rate - t) * 1000;
				wait_ms = d < 1 ? 1 : (int)d;
				break;
			}
			if (c->fd == -1) {
				if (open_conn(o, ep, c) == -1) {
					/* counts as a request that failed, so that
					 * a run against a dead server ends */
					s.errors++;
					issued++;
					if (o->requests > 0 && issued >= o->requests)
						break;
					continue;
				}
			} else {
				c->state = C_SENDING;
				want(ep, c, EPOLLOUT | EPOLLIN);
			}
			c->b = &bodies[next];
			next = (next + 1) % nbodies;
			c->sent = 0;
			c->rlen = 0;
			c->t0 = t;
			issued++;
			active++;
			if (o->requests > 0 && issued >= o->requests)
				break;
		}
		if (active == 0 && ((stop_at > 0 && now_s() >= stop_at) || (o->requests > 0 && issued >= o->requests)))
			break;

		int n = epoll_wait(ep, evs, 256, wait_ms);
		if (n == -1 && errno != EINTR)
			goto out;
		t = now_s();
		for (int k = 0; k < n; k++) {
			struct conn *c = evs[k].data.ptr;
			int failed = 0;

			if (c->state == C_CONNECTING) {
				int err = 0;
				socklen_t el = sizeof(err);
				getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el);
				if (err != 0)
					failed = 1;
				else
					c->state = C_SENDING;
			}
			if (!failed && c->state == C_SENDING && (evs[k].events & EPOLLOUT)) {
				ssize_t w = send(c->fd, c->b->req + c->sent, c->b->len - c->sent, MSG_NOSIGNAL);
				if (w > 0) {
					c->sent += (size_t)w;
					if (c->sent == c->b->len) {
						c->state = C_RECEIVING;
						want(ep, c, EPOLLIN);
					}
				} else if (w == -1 && errno != EAGAIN)
					failed = 1;
			}
			if (!failed && (evs[k].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) && c->state != C_CONNECTING) {
				ssize_t r = recv(c->fd, c->rbuf + c->rlen, RBUF - 1 - c->rlen, 0);
				if (r > 0) {
					int status = 0, keep = 0;
					size_t total = 0;
					c->rlen += (size_t)r;
					int p = parse_response(c, &status, &keep, &total);
					if (p == -1)
						failed = 1;
					else if (p == 1) {
						if (status >= 100 && status < 600)
							s.status[status]++;
						if (record(&s, t - c->t0) == -1)
							goto out;
						active--;
						c->state = C_DONE;
						/* an answer before the whole body went out
						 * (413...) leaves the connection unusable */
						if (!keep || total != c->rlen || c->sent != c->b->len) {
							epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
							close_conn(c);
							s.reconnects++;
						} else {
							want(ep, c, EPOLLIN);
						}
					}
				} else if (r == 0 || (r == -1 && errno != EAGAIN)) {
					failed = 1;
				}
			}
			if (failed) {
				if (c->state != C_DONE && c->state != C_IDLE) {
					s.errors++;
					active--;
				}
				epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
				close_conn(c);
			}
		}
		/* requests past the timeout count as errors */
		for (int i = 0; i < o->concurrency; i++) {
			struct conn *c = &conns[i];
			if ((c->state == C_SENDING || c->state == C_RECEIVING || c->state == C_CONNECTING) &&
			    t - c->t0 > o->timeout) {
				s.errors++;
				active--;
				epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
				close_conn(c);
			}
		}
	}
	report(o, &s, now_s() - start, nbodies);
	rc = 0;
out:
	if (conns != NULL)
		for (int i = 0; i < o->concurrency; i++)
			close_conn(&conns[i]);
	free(conns);
	for (size_t i = 0; i < nbodies; i++)
		free(bodies[i].req);
	free(bodies);
	free(s.lat_us);
	if (ep != -1)
		close(ep);
	return rc;
}

/* Opens o->idle connections, one GET /healthz on each, holds them. */
static int run_idle(const struct opts *o)
{
	struct conn *conns = calloc((size_t)o->idle, sizeof(*conns));
	struct body hb, *bodies = NULL;
	size_t nbodies = 0;
	char req[256];
	struct epoll_event evs[256];
	int ep = epoll_create1(0), rc = 1, answered = 0, open_now = 0, failed_n = 0, opened = 0;
	double start = now_s(), ready_at = 0;

	if (conns == NULL || ep == -1)
		goto out;
	/* libmicrohttpd closes after a response queued before the request's
	 * last callback, as the daemon's GET answers are: with --bodies the
	 * connections are made by a POST of the first body instead */
	if (o->bodies != NULL) {
		if (load_bodies(o, &bodies, &nbodies) == -1)
			goto out;
		hb = bodies[0];
	} else {
		int n = snprintf(req, sizeof(req), "GET /healthz HTTP/1.1\r\nHost: %s:%d\r\n\r\n", o->host, o->port);
		hb.req = req;
		hb.len = (size_t)n;
	}
	for (int i = 0; i < o->idle; i++) {
		conns[i].fd = -1;
		conns[i].b = &hb;
	}
	/* until every connection has had its answer (or 30 s). At most
	 * IDLE_RAMP connections are being set up at a time: a burst of a
	 * thousand connects overflows the listen backlog, and the refused
	 * handshakes come back only after seconds of TCP retransmission */
	while (answered + failed_n < o->idle && now_s() - start < 30) {
		while (opened < o->idle && opened - answered - failed_n < IDLE_RAMP) {
			conns[opened].t0 = now_s();
			if (open_conn(o, ep, &conns[opened]) == -1)
				failed_n++;
			opened++;
		}
		int k = epoll_wait(ep, evs, 256, 100);
		for (int j = 0; j < k; j++) {
			struct conn *c = evs[j].data.ptr;
			int bad = 0;
			if (c->state == C_CONNECTING) {
				int err = 0;
				socklen_t el = sizeof(err);
				getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el);
				if (err != 0)
					bad = 1;
				else
					c->state = C_SENDING;
			}
			if (!bad && c->state == C_SENDING && (evs[j].events & EPOLLOUT)) {
				ssize_t w = send(c->fd, c->b->req + c->sent, c->b->len - c->sent, MSG_NOSIGNAL);
				if (w > 0 && (c->sent += (size_t)w) == c->b->len) {
					c->state = C_RECEIVING;
					want(ep, c, EPOLLIN);
				} else if (w == -1 && errno != EAGAIN)
					bad = 1;
			}
			if (!bad && c->state == C_RECEIVING && (evs[j].events & (EPOLLIN | EPOLLHUP))) {
				ssize_t r = recv(c->fd, c->rbuf + c->rlen, RBUF - 1 - c->rlen, 0);
				int status, keep;
				size_t total;
				if (r <= 0)
					bad = r == 0 || errno != EAGAIN;
				else {
					c->rlen += (size_t)r;
					int p = parse_response(c, &status, &keep, &total);
					if (p == -1 || (p == 1 && !keep))
						bad = 1;
					else if (p == 1) {
						c->state = C_DONE;
						answered++;
						want(ep, c, EPOLLIN | EPOLLRDHUP);
					}
				}
			} else if (!bad && c->state == C_DONE && (evs[j].events & (EPOLLIN | EPOLLHUP | EPOLLRDHUP))) {
				bad = 1; /* closed by the server while idle */
				answered--;
			}
			if (bad) {
				failed_n++;
				epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
				close_conn(c);
				c->state = C_IDLE;
			}
		}
	}
	ready_at = now_s();
	/* READY tells the driver to sample the daemon's memory now */
	fprintf(stderr, "READY %d\n", answered);
	while (now_s() - ready_at < o->hold) {
		int k = epoll_wait(ep, evs, 256, 100);
		for (int j = 0; j < k; j++) {
			struct conn *c = evs[j].data.ptr;
			if (c->state == C_DONE) {
				epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
				close_conn(c);
			}
		}
	}
	for (int i = 0; i < o->idle; i++)
		if (conns[i].state == C_DONE && conns[i].fd != -1)
			open_now++;
	printf("{\"mode\":\"idle\",\"connections\":%d,\"answered\":%d,\"failed\":%d,\"open_after_hold\":%d,"
	       "\"hold_s\":%.1f,\"setup_s\":%.3f}\n",
	       o->idle, answered, failed_n, open_now, o->hold, ready_at - start);
	fflush(stdout);
	rc = 0;
out:
	if (conns != NULL)
		for (int i = 0; i < o->idle; i++)
			close_conn(&conns[i]);
	free(conns);
	for (size_t i = 0; i < nbodies; i++)
		free(bodies[i].req);
	free(bodies);
	if (ep != -1)
		close(ep);
	return rc;
}

int main(int argc, char **argv)
{
	struct opts o = {
		.host = "127.0.0.1",
		.path = "/v1/validity-checks",
		.content_type = "application/pkcs7-mime",
		.concurrency = 16,
		.timeout = 30,
	};
	struct rlimit rl;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (v == NULL)
			return usage();
		i++;
		if (!strcmp(a, "--host"))
			o.host = v;
		else if (!strcmp(a, "--port"))
			o.port = atoi(v);
		else if (!strcmp(a, "--path"))
			o.path = v;
		else if (!strcmp(a, "--bodies"))
			o.bodies = v;
		else if (!strcmp(a, "--get-paths"))
			o.get_paths = v;
		else if (!strcmp(a, "--content-type"))
			o.content_type = v;
		else if (!strcmp(a, "--concurrency"))
			o.concurrency = atoi(v);
		else if (!strcmp(a, "--duration"))
			o.duration = atof(v);
		else if (!strcmp(a, "--requests"))
			o.requests = atol(v);
		else if (!strcmp(a, "--rate"))
			o.rate = atof(v);
		else if (!strcmp(a, "--timeout"))
			o.timeout = atof(v);
		else if (!strcmp(a, "--idle"))
			o.idle = atoi(v);
		else if (!strcmp(a, "--hold"))
			o.hold = atof(v);
		else
			return usage();
	}
	if (o.port <= 0 || o.port > 65535 || o.concurrency < 1 || o.concurrency > 100000 || o.idle < 0)
		return usage();
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	signal(SIGPIPE, SIG_IGN);
	if (o.idle > 0)
		return run_idle(&o);
	if ((o.bodies == NULL && o.get_paths == NULL) || (o.duration <= 0 && o.requests <= 0))
		return usage();
	return run_load(&o);
}
