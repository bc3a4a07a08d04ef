/*
 * test_slab_drain.c - the owner's drain of remote frees when the user wrote into a
 * remotely freed object and so overwrote its link on the slab's remote stack (a
 * use-after-free). The drain must stop at a link that is not a pending object of the
 * slab, report it, never mark a live object free, never follow a wild pointer, and keep
 * the counts exact for every object it did return. Single-threaded and deterministic:
 * the standalone slab allocator, one 8-byte slab, bsa_slab_reclaim to drain.
 */
#include <stdint.h>
#include <string.h>

#include "bsa.h"
#include "test_util.h"

#define PS ((size_t)4096)
#define OBJS 8 /* objects each case allocates: slots 0..7 of the slab */

typedef struct fixture {
    bsa_slab_t s;
    void *page; /* the slab's one page */
    void *obj[OBJS];
} fixture_t;

/* A slab allocator with one class-0 slab on `page` and OBJS live objects in it. */
static void open_fixture(fixture_t *f, void *page) {
    memset(page, 0, PS);
    f->page = page;
    CHECK_STATUS(bsa_slab_init(&f->s, PS, 0), BSA_OK);
    bsa_slab_pages_t need;
    CHECK_STATUS(bsa_slab_alloc(&f->s, 8, 0, &f->obj[0], &need), BSA_NEED_PAGES);
    CHECK_STATUS(bsa_slab_add_slab(&f->s, 0, page, PS), BSA_OK);
    for (size_t i = 0; i < OBJS; i++) {
        CHECK_STATUS(bsa_slab_alloc(&f->s, 8, 0, &f->obj[i], &need), BSA_OK);
        memset(f->obj[i], 0, 8);
    }
    for (size_t i = 1; i < OBJS; i++)
        CHECK((uintptr_t)f->obj[i] == (uintptr_t)f->obj[i - 1] + 8); /* lowest slot first */
}

/* Drains the class (the slab keeps live objects: no pages come back) and checks. */
static void drain(fixture_t *f) {
    bsa_slab_pages_t rel;
    CHECK_STATUS(bsa_slab_reclaim(&f->s, &rel), BSA_OK);
    CHECK_STATUS(bsa_slab_check(&f->s), BSA_OK);
}

/* The next allocation, which must be `want`. */
static void next_is(fixture_t *f, void *want) {
    bsa_slab_pages_t need;
    void *p = NULL;
    CHECK_STATUS(bsa_slab_alloc(&f->s, 8, 0, &p, &need), BSA_OK);
    CHECK(p == want);
}

static void set_link(void *obj, uintptr_t link) { memcpy(obj, &link, sizeof link); }

/* Stack obj2 -> obj1, and obj2's link overwritten to point at itself: a cycle. obj2 goes
 * back, the walk stops at the repeat, obj1 stays pending (lost, refused if freed again). */
static void test_cycle(void *page) {
    fixture_t f;
    open_fixture(&f, page);
    CHECK_STATUS(bsa_slab_remote_free(f.obj[1], 8, 0), BSA_OK);
    CHECK_STATUS(bsa_slab_remote_free(f.obj[2], 8, 0), BSA_OK);
    set_link(f.obj[2], (uintptr_t)f.obj[2]);
    drain(&f);
    CHECK_EQ_SZ(bsa_slab_bad_frees(&f.s), 1);
    CHECK_EQ_SZ(bsa_slab_remote_pending(&f.s, 0), 1);
    CHECK_EQ_SZ(bsa_slab_live(&f.s, 0), OBJS - 2);
    next_is(&f, f.obj[2]);
    bsa_slab_pages_t rel;
    CHECK_STATUS(bsa_slab_free(&f.s, f.obj[1], 8, 0, &rel), BSA_E_BAD_FREE);
    CHECK_STATUS(bsa_slab_remote_free(f.obj[1], 8, 0), BSA_E_BAD_FREE);
    CHECK_EQ_SZ(bsa_slab_bad_frees(&f.s), 3);
    CHECK_STATUS(bsa_slab_check(&f.s), BSA_OK);
}

/* obj1 freed remotely, alone on the stack, its link overwritten with `link`, drained:
 * one report, obj1 back (the next allocation), nothing left pending. */
static void drain_bad_link(fixture_t *f, uintptr_t link) {
    CHECK_STATUS(bsa_slab_remote_free(f->obj[1], 8, 0), BSA_OK);
    set_link(f->obj[1], link);
    drain(f);
    CHECK_EQ_SZ(bsa_slab_bad_frees(&f->s), 1);
    CHECK_EQ_SZ(bsa_slab_remote_pending(&f->s, 0), 0);
    CHECK_EQ_SZ(bsa_slab_live(&f->s, 0), OBJS - 1);
    next_is(f, f->obj[1]);
}

/* A link to an address outside every slab (unmapped): not followed. */
static void test_wild_link(void *page) {
    fixture_t f;
    open_fixture(&f, page);
    drain_bad_link(&f, (uintptr_t)16);
}

/* A link to a live object of the same slab: that object stays live (the next
 * allocations skip it, and its own free is accepted). */
static void test_link_to_live(void *page) {
    fixture_t f;
    open_fixture(&f, page);
    drain_bad_link(&f, (uintptr_t)f.obj[3]);
    next_is(&f, (char *)f.obj[OBJS - 1] + 8); /* not obj3 */
    bsa_slab_pages_t rel;
    CHECK_STATUS(bsa_slab_free(&f.s, f.obj[3], 8, 0, &rel), BSA_OK);
    CHECK_STATUS(bsa_slab_check(&f.s), BSA_OK);
}

/* A link to a free slot (never allocated): nothing counted twice. */
static void test_link_to_free(void *page) {
    fixture_t f;
    open_fixture(&f, page);
    drain_bad_link(&f, (uintptr_t)f.obj[OBJS - 1] + 8 * 40); /* slot 47: zero link */
}

/* A cycle through two bitmap words (obj1 -> far -> obj1): the walk stops when it meets
 * obj1 again, with two reports, not one per lap. */
static void test_cycle_across_words(void *page) {
    fixture_t f;
    open_fixture(&f, page);
    void *far;
    bsa_slab_pages_t need;
    for (size_t i = OBJS; i < 70; i++) /* slot 69: the second bitmap word */
        CHECK_STATUS(bsa_slab_alloc(&f.s, 8, 0, &far, &need), BSA_OK);
    CHECK_STATUS(bsa_slab_remote_free(f.obj[1], 8, 0), BSA_OK);
    CHECK_STATUS(bsa_slab_remote_free(far, 8, 0), BSA_OK);
    set_link(f.obj[1], (uintptr_t)far); /* far -> obj1 already; now obj1 -> far too */
    drain(&f);
    CHECK_EQ_SZ(bsa_slab_bad_frees(&f.s), 2);
    CHECK_EQ_SZ(bsa_slab_remote_pending(&f.s, 0), 0);
    CHECK_EQ_SZ(bsa_slab_live(&f.s, 0), 68);
    next_is(&f, f.obj[1]);
    next_is(&f, far);
}

int main(void) {
    void *page = test_region_aligned(PS, PS);
    test_cycle(page);
    test_wild_link(page);
    test_link_to_live(page);
    test_link_to_free(page);
    test_cycle_across_words(page);
    test_region_free(page, PS);
    TEST_MAIN_END();
}
