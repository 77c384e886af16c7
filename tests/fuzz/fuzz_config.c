/* libFuzzer: the configuration parser over a temporary file (inih reads a
 * path), then the duration and time-of-day parsers over the same bytes. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char path[512];
	struct mdg_config cfg;
	char err[512], text[128];
	long secs;
	int minutes, offset;

	if (!path[0])
		snprintf(path, sizeof(path), "%s/config.ini", fuzz_tmpdir());
	FILE *f = fopen(path, "wb");
	if (f == NULL)
		return 0;
	if (size && fwrite(data, 1, size, f) != size) {
		fclose(f);
		return 0;
	}
	fclose(f);
	mdg_config_defaults(&cfg);
	(void)mdg_config_load(&cfg, path, err, sizeof(err));

	size_t n = size < sizeof(text) - 1 ? size : sizeof(text) - 1;
	memcpy(text, data, n);
	text[n] = '\0';
	(void)mdg_parse_duration(text, &secs);
	(void)mdg_parse_time_of_day(text, &minutes, &offset);
	return 0;
}
