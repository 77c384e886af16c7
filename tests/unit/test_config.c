#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

static char path[256];

static void write_conf(const char *text)
{
	snprintf(path, sizeof(path), "%s/test_config_%d.conf", getenv("MDG_TEST_TMP") ? getenv("MDG_TEST_TMP") : "/tmp",
		 (int)getpid());
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

START_TEST(defaults_match_design)
{
	struct mdg_config c;

	mdg_config_defaults(&c);
	ck_assert_str_eq(c.listen, "127.0.0.1");
	ck_assert_uint_eq(c.port, 8080);
	ck_assert_uint_eq(c.max_inflight, 256);
	ck_assert_uint_eq(c.max_body, 65536);
	ck_assert_uint_eq(c.max_connections, 1024);
	ck_assert_uint_eq(c.max_connections_per_address, 32);
	ck_assert_int_eq(c.request_timeout, 10);
	ck_assert_str_eq(c.policies[0], "1.2.392.200149.8.5.1.1.20");
	ck_assert_int_eq(c.crl_issue_minutes, 0);
	ck_assert_int_eq(c.crl_issue_offset, 9 * 3600);
	ck_assert_int_eq(c.crl_cutoff, 3600);
	ck_assert_int_eq(c.crl_max_age, 3600);
	ck_assert_int_eq(c.nonce_ttl, 300);
	ck_assert_uint_eq(c.admin_port, 9090);
	ck_assert_str_eq(c.store_backend, "sqlite");
	ck_assert_str_eq(c.database, "/var/lib/madoguchi/madoguchi.db");
	ck_assert_str_eq(c.dsn, "");
}
END_TEST

START_TEST(design_example_parses)
{
	struct mdg_config c;
	char err[512];

	write_conf("[server]\nlisten = 127.0.0.1          ; address\nport = 8443\nthreads = 0\n"
		   "max_inflight = 10   ; beyond this: busy\nmax_body = 65536\nrequest_timeout = 30s\ntls_cert =     ; "
		   "empty\ntls_key =\n"
		   "trusted_proxies = 127.0.0.1, ::1\n"
		   "[pki]\nanchors = /etc/madoguchi/anchors\npolicies = 1.2.392.200149.8.5.1.1.20, "
		   "1.2.392.200149.8.5.1.0.20\n"
		   "crl_issue_time = 06:30+09:00\ncrl_cutoff = 2h\ncrl_max_age = 48h\nnonce_key_file = "
		   "/tmp/k\nnonce_ttl = 300s\n"
		   "[store]\nbackend = sqlite ; the default\ndatabase = /tmp/x.db\ndsn =\n[admin]\nlisten = "
		   "127.0.0.1\nport = 9091\ntoken_file =\n");
	mdg_config_defaults(&c);
	ck_assert_int_eq(mdg_config_load(&c, path, err, sizeof(err)), 0);
	ck_assert_uint_eq(c.port, 8443);
	ck_assert_uint_eq(c.max_inflight, 10);
	ck_assert_int_eq(c.request_timeout, 30);
	ck_assert_str_eq(c.tls_cert, "");
	ck_assert_str_eq(c.trusted_proxies, "127.0.0.1, ::1");
	ck_assert_uint_eq(c.n_policies, 2);
	ck_assert_str_eq(c.policies[1], "1.2.392.200149.8.5.1.0.20");
	ck_assert_int_eq(c.crl_issue_minutes, 6 * 60 + 30);
	ck_assert_int_eq(c.crl_cutoff, 7200);
	ck_assert_int_eq(c.crl_max_age, 48 * 3600);
	ck_assert_str_eq(c.database, "/tmp/x.db");
	ck_assert_str_eq(c.store_backend, "sqlite");
	ck_assert_str_eq(c.dsn, "");
	ck_assert_uint_eq(c.admin_port, 9091);
	unlink(path);
}
END_TEST

START_TEST(bad_files_name_the_line)
{
	static const char *const bad[] = {
		"[server]\nport = 80a\n",
		"[server]\nprot = 80\n",
		"[nosuch]\nx = 1\n",
		"[pki]\nnonce_ttl = 5 minutes\n",
		"[pki]\ncrl_issue_time = 25:00+09:00\n",
		"[pki]\npolicies = not-an-oid\n",
		"[server]\nmax_inflight = 0\n",
		"[server]\nrequest_timeout = 0s\n",
		"[server]\nrequest_timeout = 2h\n",
		"[server]\nrequest_timeout = 10 s\n",
		"[server]\ntls_cert = /x\n",
		"[server]\ntls_key = /x\n",
		"[store]\nbackend = mysql\n",
		"[store]\nbackend = SQLite\n",
		"[server\n",
	};
	struct mdg_config c;
	char err[512];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		write_conf(bad[i]);
		mdg_config_defaults(&c);
		err[0] = '\0';
		ck_assert_msg(mdg_config_load(&c, path, err, sizeof(err)) == -1, "accepted: %s", bad[i]);
		ck_assert_msg(strstr(err, path) != NULL, "message lacks the file: %s", err);
	}
	unlink(path);
	ck_assert_int_eq(mdg_config_load(&c, "/nonexistent/madoguchi.conf", err, sizeof(err)), -1);
}
END_TEST

/* [store] backend and dsn (DESIGN.md "Configuration"): the config takes
 * postgresql with its dsn; whether it is built in is the store's to say. */
START_TEST(store_backend)
{
	struct mdg_config c;
	char err[512];

	write_conf("[store]\nbackend = postgresql\n"
		   "dsn = host=/run/postgresql dbname=madoguchi target_session_attrs=read-write\n");
	mdg_config_defaults(&c);
	ck_assert_msg(mdg_config_load(&c, path, err, sizeof(err)) == 0, "%s", err);
	ck_assert_str_eq(c.store_backend, "postgresql");
	ck_assert_str_eq(c.dsn, "host=/run/postgresql dbname=madoguchi target_session_attrs=read-write");
	write_conf("[store]\nbackend = oracle\n");
	mdg_config_defaults(&c);
	ck_assert_int_eq(mdg_config_load(&c, path, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "sqlite or postgresql") != NULL, "%s", err);
	unlink(path);
}
END_TEST

/* The TLS pairing, in one place: both set or both empty. */
START_TEST(receipts_section)
{
	struct mdg_config c;
	char err[512];

	mdg_config_defaults(&c);
	ck_assert_str_eq(c.receipts_key, "");
	ck_assert_str_eq(c.log_name, "madoguchi.invalid/log");
	ck_assert_int_eq(c.checkpoint_interval_ms, 1000);

	write_conf("[receipts]\nkey = /k.pem\ncert = /c.pem\nlog_name = example.jp/log\n"
		   "log_key = /l.pem\ncheckpoint_interval = 5s\n");
	mdg_config_defaults(&c);
	ck_assert_int_eq(mdg_config_load(&c, path, err, sizeof(err)), 0);
	ck_assert_str_eq(c.receipts_key, "/k.pem");
	ck_assert_str_eq(c.receipts_cert, "/c.pem");
	ck_assert_str_eq(c.log_name, "example.jp/log");
	ck_assert_str_eq(c.log_key, "/l.pem");
	ck_assert_int_eq(c.checkpoint_interval_ms, 5000);

	write_conf("[receipts]\nkey = /k.pem\n");
	mdg_config_defaults(&c);
	ck_assert_int_eq(mdg_config_load(&c, path, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "key, cert and log_key must be set together") != NULL, "%s", err);

	write_conf("[receipts]\ncheckpoint_interval = 0s\n");
	mdg_config_defaults(&c);
	ck_assert_int_eq(mdg_config_load(&c, path, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, ":2: bad value for [receipts] checkpoint_interval") != NULL, "%s", err);

	write_conf("[receipts]\nlog_name = a+b\n");
	mdg_config_defaults(&c);
	ck_assert_int_eq(mdg_config_load(&c, path, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "bad value for [receipts] log_name") != NULL, "%s", err);
	unlink(path);
}
END_TEST

START_TEST(tls_pair)
{
	struct mdg_config c;
	char err[256];

	mdg_config_defaults(&c);
	ck_assert_int_eq(mdg_config_check_tls_pair(&c, err, sizeof(err)), 0);
	snprintf(c.tls_cert, sizeof(c.tls_cert), "/x.pem");
	ck_assert_int_eq(mdg_config_check_tls_pair(&c, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "tls_cert and tls_key must be set together");
	snprintf(c.tls_key, sizeof(c.tls_key), "/x.key");
	ck_assert_int_eq(mdg_config_check_tls_pair(&c, err, sizeof(err)), 0);
	c.tls_cert[0] = '\0';
	ck_assert_int_eq(mdg_config_check_tls_pair(&c, err, sizeof(err)), -1);
}
END_TEST

START_TEST(durations)
{
	long s;

	ck_assert_int_eq(mdg_parse_duration("300s", &s), 0);
	ck_assert_int_eq(s, 300);
	ck_assert_int_eq(mdg_parse_duration("1h", &s), 0);
	ck_assert_int_eq(s, 3600);
	ck_assert_int_eq(mdg_parse_duration("48h", &s), 0);
	ck_assert_int_eq(s, 172800);
	ck_assert_int_eq(mdg_parse_duration("5m", &s), 0);
	ck_assert_int_eq(s, 300);
	ck_assert_int_eq(mdg_parse_duration("2d", &s), 0);
	ck_assert_int_eq(s, 172800);
	ck_assert_int_eq(mdg_parse_duration("42", &s), 0);
	ck_assert_int_eq(s, 42);
	ck_assert_int_eq(mdg_parse_duration("", &s), -1);
	ck_assert_int_eq(mdg_parse_duration("h", &s), -1);
	ck_assert_int_eq(mdg_parse_duration("-5s", &s), -1);
	ck_assert_int_eq(mdg_parse_duration("5x", &s), -1);
	ck_assert_int_eq(mdg_parse_duration("5ss", &s), -1);
	ck_assert_int_eq(mdg_parse_duration("99999999999999999999s", &s), -1);
}
END_TEST

START_TEST(times_of_day)
{
	int m, off;

	ck_assert_int_eq(mdg_parse_time_of_day("00:00+09:00", &m, &off), 0);
	ck_assert_int_eq(m, 0);
	ck_assert_int_eq(off, 32400);
	ck_assert_int_eq(mdg_parse_time_of_day("23:59Z", &m, &off), 0);
	ck_assert_int_eq(m, 1439);
	ck_assert_int_eq(off, 0);
	ck_assert_int_eq(mdg_parse_time_of_day("12:00-05:30", &m, &off), 0);
	ck_assert_int_eq(off, -(5 * 3600 + 1800));
	ck_assert_int_eq(mdg_parse_time_of_day("24:00+09:00", &m, &off), -1);
	ck_assert_int_eq(mdg_parse_time_of_day("00:00", &m, &off), -1);
	ck_assert_int_eq(mdg_parse_time_of_day("0:00+09:00", &m, &off), -1);
}
END_TEST

/* issue 16 item 7: a bad value says what it should look like; an unknown
 * section is called a section, not a key. */
START_TEST(messages_say_what_is_expected)
{
	struct mdg_config c;
	char err[1024];

	write_conf("[pki]\ncrl_max_age = 1x\n");
	mdg_config_defaults(&c);
	ck_assert_int_eq(mdg_config_load(&c, path, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, ":2: bad value for [pki] crl_max_age: '1x': a duration") != NULL, "%s", err);
	ck_assert_msg(strstr(err, "300s, 5m, 1h, 48h") != NULL, "%s", err);

	write_conf("[server]\nrequest_timeout = 2h\n");
	mdg_config_defaults(&c);
	ck_assert_int_eq(mdg_config_load(&c, path, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "a duration from 1s to 1h") != NULL, "%s", err);

	write_conf("[pki]\nnonce_ttl = 5 minutes\n");
	mdg_config_defaults(&c);
	ck_assert_int_eq(mdg_config_load(&c, path, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "nonce_ttl: '5 minutes': a duration of at least 1s (300s, 5m, 1h") != NULL, "%s",
		      err);

	write_conf("[pki]\ncrl_issue_time = 24:00\n");
	mdg_config_defaults(&c);
	ck_assert_int_eq(mdg_config_load(&c, path, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "HH:MM+09:00") != NULL, "%s", err);

	write_conf("[server]\nport = 8080\n[foo]\nbar = 1\n");
	mdg_config_defaults(&c);
	ck_assert_int_eq(mdg_config_load(&c, path, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, ":4: unknown section [foo]: the sections are [server], [pki], [store], [admin] and "
				  "[receipts]") != NULL,
		      "%s", err);

	write_conf("[server]\nportt = 8080\n");
	mdg_config_defaults(&c);
	ck_assert_int_eq(mdg_config_load(&c, path, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "unknown key 'portt' in section [server]") != NULL, "%s", err);

	write_conf("port = 8080\n");
	mdg_config_defaults(&c);
	ck_assert_int_eq(mdg_config_load(&c, path, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "key 'port' outside any section") != NULL, "%s", err);
}
END_TEST

START_TEST(top_page_urls)
{
	static const char *const bad[] = {
		"[server]\npublic_url = window.example.jp\n",
		"[server]\npublic_url = ftp://window.example.jp/\n",
		"[server]\npublic_url = https://\n",
		"[server]\npublic_url = https:///path\n",
		"[server]\npublic_url = https://w.example.jp/\"><script>\n",
		"[server]\npublic_url = https://w.example.jp/$(id)\n",
		"[server]\npublic_url = https://w.example.jp/?a=1&b=2\n",
		"[server]\nclient_url = javascript:alert(1)\n",
		"[server]\nclient_url = https://example.jp/a b.tar.gz\n",
		"[server]\nclient_url = https://example.jp/<x>\n",
		"[server]\nclient_url = https://example.jp/\xe7\xaa\x93\n",
	};
	struct mdg_config c;
	char err[512];

	mdg_config_defaults(&c);
	ck_assert_str_eq(c.public_url, "");
	ck_assert_str_eq(c.client_url, "");
	write_conf("[server]\npublic_url = https://window.example.jp/\n"
		   "client_url = https://example.jp/dl/madoguchi-0.1.0.tar.gz?from=top&lang=ja\n");
	ck_assert_int_eq(mdg_config_load(&c, path, err, sizeof(err)), 0);
	ck_assert_str_eq(c.public_url, "https://window.example.jp/");
	ck_assert_str_eq(c.client_url, "https://example.jp/dl/madoguchi-0.1.0.tar.gz?from=top&lang=ja");
	/* empty: the defaults (the address from the request, no link) */
	write_conf("[server]\npublic_url =\nclient_url =\n");
	mdg_config_defaults(&c);
	ck_assert_int_eq(mdg_config_load(&c, path, err, sizeof(err)), 0);
	ck_assert_str_eq(c.public_url, "");
	ck_assert_str_eq(c.client_url, "");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		write_conf(bad[i]);
		mdg_config_defaults(&c);
		err[0] = '\0';
		ck_assert_msg(mdg_config_load(&c, path, err, sizeof(err)) == -1, "accepted: %s", bad[i]);
		ck_assert_msg(strstr(err, path) != NULL && strstr(err, "_url") != NULL, "message: %s", err);
	}
	unlink(path);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, defaults_match_design);
	tcase_add_test(tc, design_example_parses);
	tcase_add_test(tc, bad_files_name_the_line);
	tcase_add_test(tc, store_backend);
	tcase_add_test(tc, tls_pair);
	tcase_add_test(tc, receipts_section);
	tcase_add_test(tc, durations);
	tcase_add_test(tc, times_of_day);
	tcase_add_test(tc, top_page_urls);
	tcase_add_test(tc, messages_say_what_is_expected);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
