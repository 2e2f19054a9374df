/* HTIF console and exit for Spike (bare metal, machine mode): the host polls `tohost`.
   On exit the runtime prints the retired-instruction count as its last console line,
   `spike-instret N`, which dlac's Spike runner reads and strips. */
#include <stdint.h>

volatile uint64_t tohost __attribute__((section(".tohost"), aligned(64)));
volatile uint64_t fromhost __attribute__((section(".tohost"), aligned(64)));

static void htif_send(uint64_t v) {
  while (tohost) fromhost = 0;
  tohost = v;
}

/* device 1 (console), command 1 (putchar) */
void htif_putchar(char c) { htif_send((1ULL << 56) | (1ULL << 48) | (uint8_t)c); }

static void put_text(const char *s) {
  while (*s) htif_putchar(*s++);
}

static void put_decimal(uint64_t v) {
  char digits[24];
  int n = 0;
  do { digits[n++] = (char)('0' + v % 10); v /= 10; } while (v);
  while (n) htif_putchar(digits[--n]);
}

/* exit code in bits 63..1, bit 0 set */
__attribute__((noreturn)) void htif_exit(int code) {
  uint64_t instret;
  asm volatile("rdinstret %0" : "=r"(instret));
  put_text("\nspike-instret ");
  put_decimal(instret);
  htif_putchar('\n');
  htif_send(((uint64_t)code << 1) | 1);
  for (;;) {}
}

__attribute__((noreturn)) void _exit(int code) { htif_exit(code); }
