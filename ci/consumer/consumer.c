/*
 * consumer.c - the smallest program an installed bsa must serve: bsa.h and the
 * library, nothing else of the project. Exits 0 only if every step went as expected.
 */
#include <stdio.h>

#include <bsa.h>

#define HEAP_BYTES ((size_t)1 << 20)
static _Alignas(4096) unsigned char heap[HEAP_BYTES];

int main(void) {
    bsa_buddy_t buddy;
    void *page = NULL;
    bsa_status_t st = bsa_buddy_init(&buddy, 4096, NULL, heap, sizeof heap);
    if (st != BSA_OK) {
        fprintf(stderr, "consumer: bsa_buddy_init: %s\n", bsa_status_name(st));
        return 1;
    }
    size_t managed = bsa_buddy_managed_bytes(&buddy);
    if (managed == 0 || managed > HEAP_BYTES || managed % 4096 != 0) {
        fprintf(stderr, "consumer: managed bytes %zu out of range\n", managed);
        return 1;
    }

    st = bsa_buddy_alloc_pages(&buddy, 1, 0, &page);
    unsigned char *p = page;
    if (st != BSA_OK || p < heap || p + 4096 > heap + HEAP_BYTES ||
        (size_t)(p - heap) % 4096 != 0 || bsa_buddy_allocated_bytes(&buddy) != 4096) {
        fprintf(stderr, "consumer: bsa_buddy_alloc_pages: %s\n", bsa_status_name(st));
        return 1;
    }
    p[0] = p[4095] = 0xa5; /* the page is ours */

    st = bsa_buddy_free_pages(&buddy, page, 1);
    if (st != BSA_OK || bsa_buddy_allocated_bytes(&buddy) != 0) {
        fprintf(stderr, "consumer: bsa_buddy_free_pages: %s\n", bsa_status_name(st));
        return 1;
    }
    printf("consumer: bsa %d.%d.%d manages %zu bytes of a %zu-byte buffer; "
           "alloc + free of one page ok\n",
           BSA_VERSION_MAJOR, BSA_VERSION_MINOR, BSA_VERSION_PATCH, managed, sizeof heap);
    return 0;
}
