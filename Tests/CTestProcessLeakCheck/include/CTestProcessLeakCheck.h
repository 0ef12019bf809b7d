// The test executable's LeakSanitizer switch (leak_check.c): no declarations to import;
// LeakSanitizer finds `__lsan_is_turned_off` by its symbol name.
#ifndef C_TEST_PROCESS_LEAK_CHECK_H
#define C_TEST_PROCESS_LEAK_CHECK_H
int __lsan_is_turned_off(void);
#endif
