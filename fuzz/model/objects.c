/*
 * objects.c - the table of what a user holds, and its fill bytes.
 *
 * Every block handed out (pages, large, small object) is filled with its own byte over
 * the size the user asked for. The core must never write into a live block: a changed
 * fill byte means it placed metadata, a slab header or a remote-free link inside one.
 * Pending objects (remotely freed) are exempt: their first word is the stack link.
 */
#include <string.h>

#include "model.h"

#define STRIPE 64u

/* The index by address is for speed only: the table itself is a plain array. */
static int *bucket(model_t *m, uintptr_t addr) {
    return &m->objs.head[((uint64_t)addr * 0x9e3779b97f4a7c15ull) >> 52];
}

/* The link that points at obj[i] in its chain. */
static int *link_to(model_t *m, int i) {
    int *l = bucket(m, m->objs.obj[i].addr);
    while (*l != i)
        l = &m->objs.next[*l];
    return l;
}

m_obj_t *m_obj_add(model_t *m, const m_obj_t *o) {
    if (m->objs.n == M_MAX_OBJS)
        return NULL;
    int i = (int)m->objs.n++;
    m->objs.obj[i] = *o;
    int *b = bucket(m, o->addr);
    m->objs.next[i] = *b;
    *b = i;
    return &m->objs.obj[i];
}

int m_obj_find(const model_t *m, uintptr_t addr) {
    for (int i = *bucket((model_t *)m, addr); i >= 0; i = m->objs.next[i])
        if (m->objs.obj[i].addr == addr)
            return i;
    return -1;
}

static size_t extent(const m_obj_t *o) { return o->size ? o->size : 1; }

int m_obj_containing(const model_t *m, uintptr_t addr) {
    for (size_t i = 0; i < m->objs.n; i++) {
        const m_obj_t *o = &m->objs.obj[i];
        if (addr >= o->addr && addr - o->addr < extent(o))
            return (int)i;
    }
    return -1;
}

void m_obj_remove(model_t *m, int i) {
    int last = (int)m->objs.n - 1;
    *link_to(m, i) = m->objs.next[i];
    if (i != last) { /* the last entry moves into slot i */
        *link_to(m, last) = i;
        m->objs.next[i] = m->objs.next[last];
        m->objs.obj[i] = m->objs.obj[last];
    }
    m->objs.n--;
}

bool m_obj_overlaps_any(const model_t *m, uintptr_t addr, size_t size, int except) {
    for (size_t i = 0; i < m->objs.n; i++) {
        const m_obj_t *o = &m->objs.obj[i];
        if ((int)i != except && addr < o->addr + extent(o) && o->addr < addr + size)
            return true;
    }
    return false;
}

/* Calls fn on each filled stripe [off, off + len) of a block of `size` bytes until it
 * returns >= 0. */
static long stripes(size_t size, size_t page_size, long (*fn)(void *, size_t, size_t),
                    void *ctx) {
    if (size <= 4096)
        return fn(ctx, 0, size);
    for (size_t off = 0; off < size; off += page_size) {
        long r = fn(ctx, off, size - off < STRIPE ? size - off : STRIPE);
        if (r >= 0)
            return r;
    }
    return fn(ctx, size - STRIPE, STRIPE);
}

typedef struct fill_ctx {
    unsigned char *p;
    uint8_t byte;
    size_t limit; /* bytes at or past it are not checked */
} fill_ctx_t;

static long write_stripe(void *ctx, size_t off, size_t len) {
    fill_ctx_t *c = ctx;
    memset(c->p + off, c->byte, len);
    return -1;
}

/* Word by word, then byte by byte where a word differs: plain loads, which ASan checks
 * inline, cost a quarter of a memcmp call per stripe through its interceptor. */
static long check_stripe(void *ctx, size_t off, size_t len) {
    fill_ctx_t *c = ctx;
    if (off >= c->limit)
        return -1;
    if (len > c->limit - off)
        len = c->limit - off;
    const unsigned char *p = c->p + off;
    uint64_t want = 0x0101010101010101ull * c->byte, word;
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        memcpy(&word, p + i, 8);
        if (word != want)
            break;
    }
    for (; i < len; i++)
        if (p[i] != c->byte)
            return (long)(off + i);
    return -1;
}

void m_fill(const model_t *m, const m_obj_t *o) {
    fill_ctx_t c = {.p = (unsigned char *)o->addr, .byte = o->fill};
    stripes(o->size, m->page_size, write_stripe, &c);
}

long m_fill_check(const model_t *m, const m_obj_t *o, size_t len) {
    fill_ctx_t c = {.p = (unsigned char *)o->addr, .byte = o->fill, .limit = len};
    if (len <= STRIPE) /* the quick check: the first bytes only */
        return check_stripe(&c, 0, len < o->size ? len : o->size);
    return stripes(o->size, m->page_size, check_stripe, &c);
}

long m_fill_check_at(const model_t *m, uintptr_t addr) {
    int i = m_obj_find(m, addr);
    if (i < 0 || m->objs.obj[i].state != M_LIVE)
        return -1;
    return m_fill_check(m, &m->objs.obj[i], SIZE_MAX);
}

int m_fill_check_some(model_t *m, size_t count) {
    size_t n = m->objs.n;
    for (size_t i = 0; i < count && i < n; i++) {
        size_t k = m->objs.round++ % n;
        const m_obj_t *o = &m->objs.obj[k];
        if (o->state == M_LIVE && m_fill_check(m, o, 64) >= 0)
            return (int)k;
    }
    return -1;
}
