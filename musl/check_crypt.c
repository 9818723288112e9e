/* Build-time check of the guest libc: init hashes mpsocks.user passwords with crypt("$6$..."),
 * and sockd checks them with crypt(); Debian's musl-dev lacks crypt(), so prove ours has it.
 * The vector is the first one of the SHA-crypt specification (Drepper, "Unix crypt using
 * SHA-256 and SHA-512"). */
#include <crypt.h>
#include <stdio.h>
#include <string.h>

int main(void)
{
	static const char want[] = "$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnI"
				   "FNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1";
	const char *got = crypt("Hello world!", "$6$saltstring");

	if (!got || strcmp(got, want) != 0) {
		fprintf(stderr, "musl: crypt($6$) gave %s, want %s\n", got ? got : "NULL", want);
		return 1;
	}
	puts("musl: crypt() SHA-512 ok");
	return 0;
}
