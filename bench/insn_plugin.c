// SPDX-License-Identifier: GPL-2.0
/*
 * insn_plugin: a QEMU TCG plugin that counts the guest instructions executed
 * in kernel text, by the address of the translation block that ran them, so
 * that make insn can say how many instructions each kernel function took.
 * Unlike time, the count does not depend on what else the host is doing.
 *
 *   qemu-system-x86_64 ... -plugin insn_plugin.so,out=FILE[,vcpu=N]
 *
 * At exit it writes FILE: one line per translation block that ran, "ADDRESS
 * INSNS EXECUTIONS" (hex, decimal, decimal); a block translated more than
 * once has more than one line. Without vcpu=, counting is an inline add per
 * block, not atomic: boot the guest with one vCPU so that no two count at
 * once. With vcpu=N, a callback per block executed counts only what vCPU N
 * runs (slower), so that a guest with more vCPUs can be profiled per CPU.
 *
 * Written against the plugin API of QEMU 7.2 (Debian bookworm's; API version
 * 1), whose few calls it declares itself: the API's header is not packaged.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>

typedef uint64_t qemu_plugin_id_t;
struct qemu_plugin_tb;
struct qemu_info_t;
enum qemu_plugin_op { QEMU_PLUGIN_INLINE_ADD_U64 };
typedef void (*tb_trans_cb)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb);
typedef void (*udata_cb)(qemu_plugin_id_t id, void *userdata);
typedef void (*vcpu_udata_cb)(unsigned int vcpu_index, void *userdata);

void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, tb_trans_cb cb);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
uint64_t qemu_plugin_tb_vaddr(const struct qemu_plugin_tb *tb);
void qemu_plugin_register_vcpu_tb_exec_inline(struct qemu_plugin_tb *tb,
					      enum qemu_plugin_op op,
					      void *ptr, uint64_t imm);
/* flags: enum qemu_plugin_cb_flags, 0 is QEMU_PLUGIN_CB_NO_REGS */
void qemu_plugin_register_vcpu_tb_exec_cb(struct qemu_plugin_tb *tb,
					  vcpu_udata_cb cb, int flags,
					  void *userdata);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, udata_cb cb,
				    void *userdata);

#define EXPORT __attribute__((visibility("default")))

EXPORT int qemu_plugin_version = 1;

/* x86-64 kernel text (and modules) lives in the top 2 GiB. */
#define KERNEL_TEXT 0xffffffff80000000ull

struct block {
	uint64_t vaddr;
	uint64_t insns;
	uint64_t runs;		/* the inline add's target, or ran()'s */
	struct block *next;
};

static struct block *blocks;
static pthread_mutex_t blocks_lock = PTHREAD_MUTEX_INITIALIZER;
static const char *out_path;
static long only_vcpu = -1;	/* vcpu=N */

/* With vcpu=N: only that vCPU writes the counter, so no two at once. */
static void ran(unsigned int vcpu_index, void *userdata)
{
	if (vcpu_index == only_vcpu)
		((struct block *)userdata)->runs++;
}

static void translated(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
	uint64_t vaddr = qemu_plugin_tb_vaddr(tb);
	struct block *b;

	(void)id;
	if (vaddr < KERNEL_TEXT)
		return;
	b = calloc(1, sizeof(*b));
	if (!b)
		abort();
	b->vaddr = vaddr;
	b->insns = qemu_plugin_tb_n_insns(tb);
	pthread_mutex_lock(&blocks_lock);
	b->next = blocks;
	blocks = b;
	pthread_mutex_unlock(&blocks_lock);
	if (only_vcpu >= 0)
		qemu_plugin_register_vcpu_tb_exec_cb(tb, ran, 0, b);
	else
		qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64,
							 &b->runs, 1);
}

static void at_exit(qemu_plugin_id_t id, void *userdata)
{
	FILE *f = fopen(out_path, "w");
	struct block *b;

	(void)id;
	(void)userdata;
	if (!f) {
		perror(out_path);
		return;
	}
	for (b = blocks; b; b = b->next)
		if (b->runs)
			fprintf(f, "%llx %llu %llu\n",
				(unsigned long long)b->vaddr,
				(unsigned long long)b->insns,
				(unsigned long long)b->runs);
	if (fclose(f))
		perror(out_path);
}

EXPORT int qemu_plugin_install(qemu_plugin_id_t id,
			       const struct qemu_info_t *info,
			       int argc, char **argv)
{
	int i;

	(void)info;
	for (i = 0; i < argc; i++)
		if (!strncmp(argv[i], "out=", 4))
			out_path = argv[i] + 4;
		else if (!strncmp(argv[i], "vcpu=", 5))
			only_vcpu = strtol(argv[i] + 5, NULL, 10);
	if (!out_path) {
		fprintf(stderr, "insn_plugin: no out=FILE given\n");
		return -1;
	}
	qemu_plugin_register_vcpu_tb_trans_cb(id, translated);
	qemu_plugin_register_atexit_cb(id, at_exit, NULL);
	return 0;
}
