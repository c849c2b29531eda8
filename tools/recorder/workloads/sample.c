/* The input of traces/real-gcc.rep: a small C file for cc1 to compile. */
#include <stddef.h>

struct node {
    struct node *next;
    int key;
};

static struct node pool[64];
static size_t used;

static struct node *push(struct node *head, int key)
{
    if (used == sizeof pool / sizeof pool[0])
        return head;
    struct node *n = &pool[used++];
    n->next = head;
    n->key = key;
    return n;
}

int sum_keys(int count)
{
    struct node *head = NULL;
    for (int i = 0; i < count; i++)
        head = push(head, i * 3 % 17);
    int sum = 0;
    for (struct node *n = head; n != NULL; n = n->next)
        sum += n->key;
    return sum;
}
