/*
 * slab_geometry.c - size classes and slab geometry: the one place that knows them.
 *
 * Class c holds objects of 8 << c bytes. A slab spans the smallest power of two of bytes
 * that is at least one page and at least BSA__SLAB_MIN_OBJECTS objects, is aligned to
 * that size, and starts with its header; objects follow at the first multiple of the
 * object size past the header (so every object is aligned to its class).
 */
#include "internal.h"

int bsa_size_class(size_t size, size_t align) { return bsa__size_class(size, align); }

size_t bsa_size_class_bytes(unsigned size_class) {
    return size_class < BSA_SIZE_CLASS_COUNT ? (size_t)8 << size_class : 0;
}

static bool page_size_ok(size_t page_size) {
    return bsa__is_pow2(page_size) && page_size >= BSA_MIN_PAGE_SIZE &&
           page_size <= BSA_MAX_PAGE_SIZE;
}

bool bsa__slab_geometry(unsigned size_class, size_t page_size, bsa__slab_geo_t *out) {
    if (size_class >= BSA_SIZE_CLASS_COUNT || !page_size_ok(page_size))
        return false;
    size_t size = (size_t)8 << size_class;
    size_t bytes = size * BSA__SLAB_MIN_OBJECTS;
    if (bytes < page_size)
        bytes = page_size;
    /* The header grows with the slot count (two bitmaps): shrink until both fit. Each
     * slot costs its size plus two bitmap bits, and the fixed header comes first, so no
     * fitting count exceeds the bound below: start there instead of at bytes / size. */
    size_t fixed = sizeof(bsa__slab_hdr_t);
    size_t count = (bytes - fixed) * 4u / (size * 4u + 1u), first;
    for (;; count--) {
        size_t words = (count + BSA__WORD_BITS - 1u) >> BSA__WORD_SHIFT;
        first = (bsa__slab_header_bytes((uint32_t)words) + size - 1u) & ~(size - 1u);
        if (first + (count << (size_class + 3u)) <= bytes)
            break;
    }
    out->pages = (uint32_t)(bytes >> bsa__log2(page_size));
    out->first_offset = (uint32_t)first;
    out->count = (uint32_t)count;
    return true;
}

size_t bsa_slab_pages_for(unsigned size_class, size_t page_size) {
    bsa__slab_geo_t g;
    return bsa__slab_geometry(size_class, page_size, &g) ? g.pages : 0;
}

size_t bsa_slab_objects_for(unsigned size_class, size_t page_size) {
    bsa__slab_geo_t g;
    return bsa__slab_geometry(size_class, page_size, &g) ? g.count : 0;
}

size_t bsa_slab_first_offset_for(unsigned size_class, size_t page_size) {
    bsa__slab_geo_t g;
    return bsa__slab_geometry(size_class, page_size, &g) ? g.first_offset : 0;
}
