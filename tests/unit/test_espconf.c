/* Unit tests of init/espconf.c's pure part: taking mpsocks.conf= out of the command line and
 * replacing the built-in mpsocks.* parameters with those of mpsocks/cmdline.txt. */
#include <string.h>

#include "check.h"
#include "espconf.h"

int main(void)
{
	struct check c = { "espconf", 0 };
	char line[256], name[16], small[40];

	strcpy(line, "console=ttyS0 mpsocks.conf=mpsocks-esp mpsocks.port=1080 quiet");
	CHECK(&c, "take finds the parameter", espconf_take(line, name, sizeof(name)) == 1);
	CHECK(&c, "take returns the partition name", strcmp(name, "mpsocks-esp") == 0);
	CHECK(&c, "take removes only that word",
	      strcmp(line, "console=ttyS0 mpsocks.port=1080 quiet") == 0);
	CHECK(&c, "take without the parameter", espconf_take(line, name, sizeof(name)) == 0 &&
						     !name[0] && strcmp(line, "console=ttyS0 mpsocks.port=1080 quiet") == 0);
	strcpy(line, "mpsocks.conf=a mpsocks.conf=b\n");
	CHECK(&c, "take: the last one wins", espconf_take(line, name, sizeof(name)) == 1 &&
						   strcmp(name, "b") == 0 && line[0] == '\0');
	strcpy(line, "mpsocks.conf=a-name-longer-than-16 x");
	CHECK(&c, "take: a name too long is empty", espconf_take(line, name, sizeof(name)) == 1 &&
						     !name[0] && strcmp(line, "x") == 0);
	strcpy(line, "mpsocks.conf= x");
	CHECK(&c, "take: empty value", espconf_take(line, name, sizeof(name)) == 1 && !name[0]);
	strcpy(line, "a=\"one mpsocks.conf=x two\" b");
	CHECK(&c, "take: quoted white space is part of a word",
	      espconf_take(line, name, sizeof(name)) == 0);

	strcpy(line, "console=ttyS0 mpsocks.lan=eth0,192.168.77.1/24 panic=10 mpsocks.nic=eth1,dhcp\n");
	CHECK(&c, "merge", espconf_merge(line, sizeof(line),
					 "# roles\nmpsocks.lan=eth0,10.0.0.1/24   # the LAN\r\n"
					 "\tmpsocks.nic=eth1,dhcp mpsocks.nic=usb0,dhcp,backup\n\n#end") == 0);
	CHECK(&c, "merge: built-in mpsocks.* replaced, others kept, comments dropped",
	      strcmp(line, "console=ttyS0 panic=10 mpsocks.lan=eth0,10.0.0.1/24 "
			   "mpsocks.nic=eth1,dhcp mpsocks.nic=usb0,dhcp,backup") == 0);
	strcpy(line, "console=ttyS0 mpsocks.port=1");
	CHECK(&c, "merge: empty file drops the built-in mpsocks.*",
	      espconf_merge(line, sizeof(line), "# nothing\n") == 0 && strcmp(line, "console=ttyS0") == 0);
	strcpy(small, "console=ttyS0 mpsocks.port=1");
	CHECK(&c, "merge: too long leaves the line unchanged",
	      espconf_merge(small, sizeof(small), "mpsocks.lan=eth0,192.168.77.1/24 mpsocks.nic=eth1,dhcp") == -1 &&
		      strcmp(small, "console=ttyS0 mpsocks.port=1") == 0);
	strcpy(line, "x");
	CHECK(&c, "merge: no trailing newline", espconf_merge(line, sizeof(line), "mpsocks.debug=1") == 0 &&
							 strcmp(line, "x mpsocks.debug=1") == 0);
	return CHECK_DONE(&c);
}
