/* Internal: intrusive structures. A link lives inside the object it links, so that putting an
 * object on a list never allocates (and so never fails), and container_of gets the object back. */
#ifndef CORIO_BASE_LIST_H
#define CORIO_BASE_LIST_H

#include <stddef.h>

#define corio__container_of(ptr, type, member) ((type *)(void *)((char *)(ptr)-offsetof(type, member)))

/* Doubly linked and circular: a list is a head link, empty when it points at itself. */
typedef struct corio__link {
    struct corio__link *prev, *next;
} corio__link;

static inline void corio__list_init(corio__link *head) { head->prev = head->next = head; }
static inline void corio__list_insert_tail(corio__link *head, corio__link *l) {
    l->prev = head->prev;
    l->next = head;
    head->prev->next = l;
    head->prev = l;
}
static inline void corio__list_remove(corio__link *l) {
    l->prev->next = l->next;
    l->next->prev = l->prev;
    l->prev = l->next = l;
}

#endif
