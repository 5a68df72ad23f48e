/*
 * main.c - erisd, the ERIS block-store daemon: parse the options, open
 * the listening socket and the store, then serve (serve.c) until SIGTERM
 * or SIGINT; finally flush the store and exit 0.
 *
 * May call: serve.c, coap_server.c, cache.c, the store, the CLI helpers
 * (progenv.h: the environment; size_arg.h; default_store.h).
 *
 * Exit codes: 0 success (also after a signal), 2 usage, 3 the store
 * cannot be opened, 4 the address cannot be listened on or a file cannot
 * be read, 5 anything else (io_uring unavailable, out of memory).
 */
#define _GNU_SOURCE
#include "coap_server.h"
#include "default_store.h"
#include "progenv.h"
#include "proto.h"
#include "serve.h"
#include "size_arg.h"
#include "suggest.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define ERISD_DEFAULT_PORT "8585"

enum { EXIT_USAGE = 2, EXIT_STORE = 3, EXIT_IO = 4, EXIT_OTHER = 5 };

static const char usage_text[] =
	"Usage: erisd [OPTION]...\n"
	"Serve an ERIS block store over HTTP (ERIS over HTTP: GET/HEAD/PUT\n"
	"/uri-res/N2R?urn:blake2b:REF, GET/HEAD /uri-res/N2R?urn:eris:CAP).\n"
	"\n"
	"  --listen ADDR:PORT     address to listen on (default 127.0.0.1:"
	ERISD_DEFAULT_PORT ");\n"
	"                         IPv6 as [::1]:PORT; port 0 picks a free one\n"
	"  --store STORE          block store (default: $ERIS_STORE or the\n"
	"                         sqlite store in $XDG_DATA_HOME/eris); a\n"
	"                         missing one is created only if this erisd\n"
	"                         may write (--writable, --token-file,\n"
	"                         --upstream) or with --create-store\n"
	"  --create-store         create a missing store even when\n"
	"                         read-only (a service's first start)\n"
	"  --writable             accept PUT from loopback peers\n"
	"  --token-file FILE      accept PUT from peers sending\n"
	"                         'Authorization: Bearer TOKEN' (TOKEN: the\n"
	"                         file's first line)\n"
	"  --max-connections N    stop accepting beyond N connections (1024)\n"
	"  --idle-timeout S       close idle connections after S seconds (60)\n"
	"  --header-timeout S     a request head must arrive within S seconds\n"
	"                         of its first byte (10)\n"
	"  --workers N            store worker threads per I/O thread (2)\n"
	"  --io-threads N         io_uring loops serving connections (one\n"
	"                         per online CPU, at most 64)\n"
	"  --cache-size SIZE      memory for verified blocks served without\n"
	"                         re-reading or re-hashing them (64M; K, M,\n"
	"                         G suffixes; 0 = no cache)\n"
	"  --upstream URL         fetch blocks this store lacks from another\n"
	"                         erisd or EER HTTP server (repeatable: tried\n"
	"                         in order); each is verified, stored, served\n"
	"  --coap ADDR:PORT       also serve ERIS over CoAP/UDP there\n"
	"                         (.well-known/eris/blocks; 32 KiB blocks\n"
	"                         block-wise)\n"
	"  --coap-tcp ADDR:PORT   also serve ERIS over CoAP/TCP there\n"
	"                         CoAP has no credentials: it accepts PUT only\n"
	"                         with --writable, from loopback peers\n"
	"  --access-log FILE|-    log every request to FILE (- = stdout)\n"
	"  --quiet                no diagnostics on stderr but errors\n"
	"  --completion SHELL     print a bash, zsh or fish completion\n"
	"                         script for erisd and exit\n"
	"  -h, --help             show this help\n"
	"  -V, --version          show the version\n";

static int parse_uint(const char *s, unsigned min, unsigned max,
		      unsigned *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	if (*s < '0' || *s > '9')
		return -1;
	v = strtoul(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -1;
	*out = (unsigned)v;
	return 0;
}

#define MAX_UPSTREAMS 8

/*
 * --upstream: reads go through cache:LOCAL,fallback:UP1,UP2,... — a block
 * missing here is fetched from the first upstream that has it, verified
 * (the cache checks every remote block), stored here and served. PUTs
 * keep going to the local store only: upstreams are read from, never
 * written to.
 */
static int open_upstreams(erisd_config *cfg, const char *const *urls,
			  unsigned n)
{
	eris_store *remote[MAX_UPSTREAMS], *list, *cache;
	unsigned i;

	for (i = 0; i < n; i++) {
		if (strncmp(urls[i], "http://", 7) &&
		    strncmp(urls[i], "https://", 8)) {
			fprintf(stderr, "erisd: --upstream %s: an http:// or "
				"https:// URL is needed\n", urls[i]);
			goto fail;
		}
		eris_store_options opts = progenv_store_options(0);

		if (eris_store_open_opts(&remote[i], urls[i], &opts) != ERIS_OK) {
			fprintf(stderr, "erisd: --upstream %s: %s\n", urls[i],
				eris_error_last());
			goto fail;
		}
	}
	if (eris_store_new_fallback(&list, remote, n) != ERIS_OK) {
		fprintf(stderr, "erisd: --upstream: %s\n", eris_error_last());
		return -1; /* the fallback freed the members */
	}
	/* The cache takes `list` and the local store; cfg->store stays the
	 * borrowed local store for PUTs and flushes. */
	if (eris_store_new_cache(&cache, cfg->store, list) != ERIS_OK) {
		fprintf(stderr, "erisd: --upstream: %s\n", eris_error_last());
		cfg->store = NULL;
		return -1;
	}
	cfg->read_store = cache;
	return 0;
fail:
	while (i > 0)
		eris_store_free(remote[--i]);
	return -1;
}

/* Open a listening socket on "HOST:PORT" or "[V6]:PORT". */
static int open_listener(const char *spec, char *shown, size_t shown_size)
{
	char host[256], port[16];
	const char *colon;
	struct addrinfo hints, *res = NULL, *ai;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	int fd = -1, one = 1, rc;

	if (spec[0] == '[') {
		const char *close_ = strchr(spec, ']');

		if (!close_ || close_[1] != ':' ||
		    (size_t)(close_ - spec - 1) >= sizeof host)
			return -2;
		memcpy(host, spec + 1, (size_t)(close_ - spec - 1));
		host[close_ - spec - 1] = '\0';
		colon = close_ + 1;
	} else {
		colon = strrchr(spec, ':');
		if (!colon || (size_t)(colon - spec) >= sizeof host)
			return -2;
		memcpy(host, spec, (size_t)(colon - spec));
		host[colon - spec] = '\0';
	}
	if (strlen(colon + 1) == 0 || strlen(colon + 1) >= sizeof port)
		return -2;
	strcpy(port, colon + 1);
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV |
			 (host[0] ? AI_NUMERICHOST : 0);
	rc = getaddrinfo(host[0] ? host : NULL, port, &hints, &res);
	if (rc != 0) {
		fprintf(stderr, "erisd: --listen %s: %s\n", spec,
			gai_strerror(rc));
		return -2;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
			    ai->ai_protocol);
		if (fd < 0)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
		    listen(fd, 4096) == 0)
			break;
		fprintf(stderr, "erisd: cannot listen on %s: %s\n", spec,
			strerror(errno));
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		return -1;
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0) {
		char a[INET6_ADDRSTRLEN] = "?";

		if (ss.ss_family == AF_INET6) {
			const struct sockaddr_in6 *s6 = (const void *)&ss;

			inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof a);
			snprintf(shown, shown_size, "[%s]:%u", a,
				 ntohs(s6->sin6_port));
		} else {
			const struct sockaddr_in *s4 = (const void *)&ss;

			inet_ntop(AF_INET, &s4->sin_addr, a, sizeof a);
			snprintf(shown, shown_size, "%s:%u", a,
				 ntohs(s4->sin_port));
		}
	}
	return fd;
}

/* The token: the file's first line, without trailing whitespace. */
static char *read_token(const char *path)
{
	FILE *f = fopen(path, "r");
	char buf[1024];
	size_t n;

	if (!f) {
		fprintf(stderr, "erisd: --token-file %s: %s\n", path,
			strerror(errno));
		return NULL;
	}
	if (!fgets(buf, sizeof buf, f))
		buf[0] = '\0';
	fclose(f);
	n = strlen(buf);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' ||
			 buf[n - 1] == ' ' || buf[n - 1] == '\t'))
		buf[--n] = '\0';
	if (n == 0 || n > HTTP_MAX_AUTH - 7) {
		fprintf(stderr, "erisd: --token-file %s: the first line must "
			"hold a token of 1 to %u characters\n", path,
			HTTP_MAX_AUTH - 7);
		return NULL;
	}
	return strdup(buf);
}

/* What the command line asks for, beyond the configuration itself. */
typedef struct options {
	const char *listen_spec;
	const char *store_spec, *token_file, *log_file;
	const char *coap_spec[2]; /* UDP, TCP */
	const char *upstream[MAX_UPSTREAMS];
	unsigned n_upstream;
	size_t cache_size;
	int create_store;          /* --create-store */
} options;

/* What the daemon holds while it runs, released by finish(). */
typedef struct daemon_state {
	erisd_config cfg;
	char *token;
	int fd;                   /* the listening socket, or -1 */
	int store_open;           /* cfg.store (and read_store) to free */
	int store_ready;          /* ... and to flush at the end */
	erisd_coap *coap[2];      /* UDP, TCP */
} daemon_state;

/* The options into `cfg` and `o`: -1 to go on, else the exit code. */
static int parse_options(int argc, char **argv, erisd_config *cfg,
			 options *o)
{
	enum {
		O_LISTEN = 256, O_STORE, O_WRITABLE, O_TOKEN, O_MAXCONN,
		O_IDLE, O_HEADER, O_WORKERS, O_LOG, O_QUIET, O_CREATE_STORE,
		O_COAP, O_COAP_TCP, O_UPSTREAM, O_CACHE, O_IO_THREADS,
		O_COMPLETION
	};
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, O_LISTEN },
		{ "store", required_argument, NULL, O_STORE },
		{ "writable", no_argument, NULL, O_WRITABLE },
		{ "token-file", required_argument, NULL, O_TOKEN },
		{ "max-connections", required_argument, NULL, O_MAXCONN },
		{ "idle-timeout", required_argument, NULL, O_IDLE },
		{ "header-timeout", required_argument, NULL, O_HEADER },
		{ "workers", required_argument, NULL, O_WORKERS },
		{ "cache-size", required_argument, NULL, O_CACHE },
		{ "io-threads", required_argument, NULL, O_IO_THREADS },
		{ "coap", required_argument, NULL, O_COAP },
		{ "upstream", required_argument, NULL, O_UPSTREAM },
		{ "coap-tcp", required_argument, NULL, O_COAP_TCP },
		{ "access-log", required_argument, NULL, O_LOG },
		{ "quiet", no_argument, NULL, O_QUIET },
		{ "create-store", no_argument, NULL, O_CREATE_STORE },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "completion", required_argument, NULL, O_COMPLETION },
		{ NULL, 0, NULL, 0 }
	};
	/* The completion scripts come from this very table. */
	const completion_prog completion = { "erisd", opts, ":hV", NULL, 0,
					     0 };
	int c;

	memset(o, 0, sizeof *o);
	o->listen_spec = "127.0.0.1:" ERISD_DEFAULT_PORT;
	o->cache_size = (size_t)64 << 20;
	cfg->max_connections = 1024;
	cfg->idle_timeout = 60;
	cfg->header_timeout = 10;
	cfg->workers = 2;
	cfg->io_threads = 0; /* one per online CPU, set below */
	if (progenv_configure("erisd") < 0)
		return EXIT_USAGE;
	while ((c = getopt_long(argc, argv, ":hV", opts, NULL)) != -1) {
		switch (c) {
		case O_LISTEN: o->listen_spec = optarg; break;
		case O_STORE: o->store_spec = optarg; break;
		case O_WRITABLE: cfg->writable = 1; break;
		case O_TOKEN: o->token_file = optarg; break;
		case O_MAXCONN:
			if (parse_uint(optarg, 1, 65536,
				       &cfg->max_connections) < 0)
				goto bad_number;
			break;
		case O_IDLE:
			if (parse_uint(optarg, 1, 86400,
				       &cfg->idle_timeout) < 0)
				goto bad_number;
			break;
		case O_HEADER:
			if (parse_uint(optarg, 1, 86400,
				       &cfg->header_timeout) < 0)
				goto bad_number;
			break;
		case O_WORKERS:
			if (parse_uint(optarg, 1, 64, &cfg->workers) < 0)
				goto bad_number;
			break;
		case O_IO_THREADS:
			if (parse_uint(optarg, 1, 64, &cfg->io_threads) < 0)
				goto bad_number;
			break;
		case O_CACHE:
			/* 0, or at least one 32 KiB block. */
			if (size_arg_parse(optarg, SIZE_MAX,
					   &o->cache_size) < 0 ||
			    (o->cache_size > 0 &&
			     o->cache_size < ERIS_BLOCK_SIZE_MAX))
				goto bad_number;
			break;
		case O_LOG: o->log_file = optarg; break;
		case O_COAP: o->coap_spec[ERISD_COAP_UDP] = optarg; break;
		case O_UPSTREAM:
			if (o->n_upstream == MAX_UPSTREAMS) {
				fprintf(stderr, "erisd: at most %d --upstream\n",
					MAX_UPSTREAMS);
				return EXIT_USAGE;
			}
			o->upstream[o->n_upstream++] = optarg;
			break;
		case O_COAP_TCP: o->coap_spec[ERISD_COAP_TCP] = optarg; break;
		case O_QUIET: cfg->quiet = 1; break;
		case O_CREATE_STORE: o->create_store = 1; break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		case 'V':
			printf("erisd %s\n", ERIS_VERSION);
			return 0;
		case O_COMPLETION:
			if (completion_print(stdout, optarg, &completion) < 0) {
				fprintf(stderr, "erisd: --completion: unknown "
						"shell '%s' (bash, zsh or fish)",
					optarg);
				suggest_print(stderr, NULL,
					      suggest_word(optarg,
							   completion_shells,
							   3));
				fputc('\n', stderr);
				return EXIT_USAGE;
			}
			return 0;
		default:
			suggest_bad_option("erisd", c, argv, opts);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "erisd: unexpected argument '%s'\n"
			"Try 'erisd --help'.\n", argv[optind]);
		return EXIT_USAGE;
	}
	if (cfg->io_threads == 0) {
		/* Cache misses are hashed on the loops' threads: one loop
		 * per core (docs/PERFORMANCE.md). */
		long n = sysconf(_SC_NPROCESSORS_ONLN);

		cfg->io_threads = n < 1 ? 1 : n > 64 ? 64 : (unsigned)n;
	}
	return -1;

bad_number:
	fprintf(stderr, "erisd: %s: invalid number '%s'\n",
		argv[optind - 1], optarg);
	return EXIT_USAGE;
}

/* Everything before the store: io_uring, the token, the access log,
 * signals, the listening socket. 0, or the exit code. */
static int prepare(daemon_state *d, const options *o, char *shown,
		   size_t shown_size)
{
	erisd_config *cfg = &d->cfg;
	char why[256];
	struct rlimit rl;
	sigset_t mask;

	if (serve_probe(why, sizeof why) < 0) {
		fprintf(stderr, "erisd: %s\n", why);
		return EXIT_OTHER;
	}
	if (o->token_file) {
		d->token = read_token(o->token_file);
		if (!d->token)
			return EXIT_IO;
		cfg->token = d->token;
		cfg->token_len = strlen(d->token);
	}
	if (o->log_file) {
		cfg->access_log = strcmp(o->log_file, "-") == 0
					  ? stdout
					  : fopen(o->log_file, "a");
		if (!cfg->access_log) {
			fprintf(stderr, "erisd: --access-log %s: %s\n",
				o->log_file, strerror(errno));
			return EXIT_IO;
		}
	}
	/* Every connection is a descriptor. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	signal(SIGPIPE, SIG_IGN);
	/* Blocked before any thread starts, so the signalfd gets them. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	pthread_sigmask(SIG_BLOCK, &mask, NULL);

	/* The address first: a mistake in it must not create a store. */
	d->fd = open_listener(o->listen_spec, shown, shown_size);
	if (d->fd < 0) {
		if (d->fd == -2)
			fprintf(stderr, "erisd: --listen %s: expected "
				"ADDR:PORT or [ADDR]:PORT\n", o->listen_spec);
		return d->fd == -2 ? EXIT_USAGE : EXIT_IO;
	}
	return 0;
}

/* Open the store (and the upstreams in front of it). 0, or the exit
 * code. */
static int open_store(daemon_state *d, const options *o)
{
	erisd_config *cfg = &d->cfg;
	char default_spec[4096];
	const char *store_spec = o->store_spec;
	/* Create a missing store only if this daemon may write to it: a
	 * read-only one would serve an empty store, hiding a typo in the
	 * name behind 404s. --create-store says the name is meant (a
	 * service's fixed path on its first start). */
	int may_write = cfg->writable || o->token_file || o->n_upstream > 0;
	int create = may_write || o->create_store;
	int rc;

	if (!store_spec) {
		const char *no = default_store_spec(default_spec,
						    sizeof default_spec);

		if (no != NULL) {
			fprintf(stderr, "erisd: %s\n", no);
			return EXIT_STORE;
		}
		store_spec = default_spec;
	}
	eris_init();
	{
		eris_store_options store_opts = progenv_store_options(
			create ? ERIS_STORE_CREATE : 0);

		rc = eris_store_open_opts(&cfg->store, store_spec, &store_opts);
	}
	if (rc != ERIS_OK) {
		fprintf(stderr, "erisd: cannot open store %s: %s\n",
			store_spec, eris_error_last());
		if (!create && rc == ERIS_ESTORE)
			fprintf(stderr, "erisd: a read-only erisd does not "
				"create a store; with --writable, "
				"--token-file or --create-store it does\n");
		return EXIT_STORE;
	}
	d->store_open = 1;
	if (o->n_upstream > 0 &&
	    open_upstreams(cfg, o->upstream, o->n_upstream) < 0)
		return EXIT_STORE;
	d->store_ready = 1;
	return 0;
}

/* The cache, CoAP, then HTTP until a signal. The exit code. */
static int serve(daemon_state *d, const options *o, const char *shown)
{
	erisd_config *cfg = &d->cfg;

	/* Before the listening lines, which tests wait for. */
	if (o->cache_size > 0 &&
	    erisd_cache_new(&cfg->cache, o->cache_size) != ERIS_OK) {
		fprintf(stderr, "erisd: cannot allocate the block cache\n");
		return EXIT_OTHER;
	}
	for (int t = 0; t < 2; t++) {
		char bound[128];

		if (!o->coap_spec[t])
			continue;
		if (erisd_coap_start(&d->coap[t], cfg->store, cfg->cache,
				     o->coap_spec[t], t, cfg->writable,
				     bound, sizeof bound) != ERIS_OK) {
			fprintf(stderr, "erisd: --coap%s %s: %s\n",
				t == ERISD_COAP_TCP ? "-tcp" : "",
				o->coap_spec[t], eris_error_last());
			return EXIT_IO;
		}
		/* Tests read the port from this line too. */
		fprintf(stderr, "erisd: coap%s listening on %s\n",
			t == ERISD_COAP_TCP ? "+tcp" : "", bound);
	}
	/* Tests read the port from this line: keep its form. */
	fprintf(stderr, "erisd: listening on %s\n", shown);
	fflush(stderr);

	return serve_run(cfg, d->fd) == 0 ? 0 : EXIT_OTHER;
}

/* Stop CoAP, flush and close the store, release the rest; the exit code
 * (`ret`, or EXIT_STORE if the final flush fails). */
static int finish(daemon_state *d, int ret)
{
	erisd_config *cfg = &d->cfg;

	if (d->fd >= 0)
		close(d->fd);
	for (int t = 0; t < 2; t++)
		erisd_coap_stop(d->coap[t]);
	erisd_cache_free(cfg->cache);
	if (d->store_ready) {
		if (eris_store_flush(cfg->store) != ERIS_OK) {
			fprintf(stderr, "erisd: flushing the store: %s\n",
				eris_error_last());
			ret = EXIT_STORE;
		}
		if (ret == 0 && !cfg->quiet)
			fprintf(stderr, "erisd: stopped\n");
	}
	/* With upstreams the cache owns the local store. */
	if (d->store_open)
		eris_store_free(cfg->read_store ? cfg->read_store : cfg->store);
	if (cfg->access_log && cfg->access_log != stdout)
		fclose(cfg->access_log);
	else if (cfg->access_log)
		fflush(stdout);
	free(d->token);
	return ret;
}

int main(int argc, char **argv)
{
	daemon_state d;
	options o;
	char shown[128] = "?";
	int ret;

	memset(&d, 0, sizeof d);
	d.fd = -1;
	ret = parse_options(argc, argv, &d.cfg, &o);
	if (ret >= 0)
		return ret;
	ret = prepare(&d, &o, shown, sizeof shown);
	if (ret == 0)
		ret = open_store(&d, &o);
	if (ret == 0)
		ret = serve(&d, &o, shown);
	return finish(&d, ret);
}
