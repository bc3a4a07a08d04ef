/*
 * status.c - names of the status codes, for logs and test messages.
 */
#include "internal.h"

const char *bsa_status_name(bsa_status_t s) {
    switch (s) {
    case BSA_OK: return "BSA_OK";
    case BSA_NEED_PAGES: return "BSA_NEED_PAGES";
    case BSA_RELEASE_PAGES: return "BSA_RELEASE_PAGES";
    case BSA_E_INVALID: return "BSA_E_INVALID";
    case BSA_E_NOMEM: return "BSA_E_NOMEM";
    case BSA_E_OVERLAP: return "BSA_E_OVERLAP";
    case BSA_E_UNINIT: return "BSA_E_UNINIT";
    case BSA_E_BAD_FREE: return "BSA_E_BAD_FREE";
    case BSA_E_CORRUPT: return "BSA_E_CORRUPT";
    }
    return "BSA_UNKNOWN_STATUS";
}
