/* page: the status page (init/page.html) built into init as status_page .. status_page_end,
 * so PID 1 serves it without a file system copy. PAGE_HTML is the file's path (init.mk). */
__asm__(".section .rodata\n"
	".global status_page\n"
	"status_page:\n"
	".incbin \"" PAGE_HTML "\"\n"
	".global status_page_end\n"
	"status_page_end:\n"
	".previous\n");
