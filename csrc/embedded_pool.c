/* embedded_pool.c - first fit over real gaps, handles, lock counts and two-way compaction. */
#include "embedded_pool.h"

#include <string.h>

/* The only global in the library: the embedded pool's statically allocated memory. */
static _Alignas(max_align_t) unsigned char embedded_pool_memory[EMBEDDED_POOL_CAPACITY];

/* One table slot. Invariants: a slot is live exactly when size > 0; a live block occupies
 * [offset, offset + rounded(size)) inside the data area, aligned, overlapping no other; lock
 * counts only on live slots; generation never 0 and bumped on every free. */
typedef struct emb_slot {
    size_t offset;       /* block start, from the pool's base */
    size_t size;         /* requested bytes; 0 when the slot is free */
    unsigned lock;       /* lock count: the block may not move while > 0 */
    unsigned generation; /* handles must carry this value */
} emb_slot;

/* The header at the start of the pool memory, followed by `nslots` slots, then the data area. */
struct embedded_pool {
    size_t size;         /* bytes from base to the end of the pool memory */
    size_t data_start;   /* offset of the data area (after the table) */
    size_t nslots;       /* slots in the table */
    unsigned flags;      /* EMB_* flags */
    emb_hooks hooks;     /* critical-section hooks (no-ops by default) */
    size_t compactions;  /* compaction passes */
    size_t bytes_moved;  /* bytes copied by moves */
    size_t steps;        /* slots scanned by the current/last operation */
    size_t *order;       /* live slot indices in address order (stored after the slots) */
    size_t nlive;        /* entries in order[] */
    emb_slot slots[];    /* the allocation table */
};

_Static_assert(EMBEDDED_POOL_ALIGN % _Alignof(emb_slot) == 0 || _Alignof(emb_slot) % EMBEDDED_POOL_ALIGN == 0,
               "slot alignment and block alignment must nest");

static void hook_none(void *ctx)
{
    (void)ctx;
}

static void section_enter(const embedded_pool *p)
{
    p->hooks.enter(p->hooks.ctx);
}

/* Leave the critical section and pass a result through, so every return path is balanced. */
static int section_exit(const embedded_pool *p, int result)
{
    p->hooks.exit(p->hooks.ctx);
    return result;
}

static unsigned char *pool_base(const embedded_pool *p)
{
    return (unsigned char *)p;
}

static size_t block_extent(size_t size)
{
    return (size + (EMBEDDED_POOL_ALIGN - 1)) & ~(size_t)(EMBEDDED_POOL_ALIGN - 1);
}

static size_t slot_end(const emb_slot *s)
{
    return s->offset + block_extent(s->size);
}

/* The live slots in address order are p->order[0..nlive): every call that adds, frees or
 * moves a block keeps that array sorted, so walking blocks in address order costs no sort. */
static size_t slots_by_offset(const embedded_pool *p)
{
    return p->nlive;
}

/* Put a live slot into the address order (after every block that starts before it). */
static void order_insert(embedded_pool *p, size_t slot)
{
    size_t k = p->nlive;
    while (k > 0 && p->slots[p->order[k - 1]].offset > p->slots[slot].offset) {
        p->order[k] = p->order[k - 1];
        k--;
    }
    p->order[k] = slot;
    p->nlive++;
    p->steps += p->nlive - k;
}

/* Take a slot out of the address order. */
static void order_remove(embedded_pool *p, size_t slot)
{
    size_t k = 0;
    while (k < p->nlive && p->order[k] != slot) k++;
    if (k == p->nlive) return;
    memmove(&p->order[k], &p->order[k + 1], (p->nlive - k - 1) * sizeof p->order[0]);
    p->nlive--;
    p->steps += k + 1;
}

/* The slot a handle names, or an error: out of range is forged, a wrong generation is stale. */
static int handle_slot(const embedded_pool *p, emb_handle h, emb_slot **out)
{
    if (h.slot >= p->nslots) return POOL_EFOREIGN;
    emb_slot *s = (emb_slot *)&p->slots[h.slot];
    if (s->size == 0 || s->generation != h.generation) return POOL_ESTALE;
    *out = s;
    return POOL_OK;
}

static void block_move(embedded_pool *p, emb_slot *s, size_t to)
{
    if (s->offset == to) return;
    memmove(pool_base(p) + to, pool_base(p) + s->offset, s->size);
    p->bytes_moved += s->size;
    s->offset = to;
}

/* First fit: the lowest gap of at least `extent` bytes, ignoring slot `skip` (nslots for none).
 * It checks each gap's real size, so a new block never runs into the next live one. */
static int gap_first_fit(embedded_pool *p, size_t extent, size_t skip, size_t *at)
{
    size_t n = slots_by_offset(p), cursor = p->data_start;
    for (size_t k = 0; k < n; k++) {
        const emb_slot *s = &p->slots[p->order[k]];
        p->steps++;
        if (p->order[k] == skip) continue;
        if (s->offset - cursor >= extent) break;
        cursor = slot_end(s);
    }
    if (cursor > p->size || p->size - cursor < extent) return POOL_ENOMEM;
    *at = cursor;
    return POOL_OK;
}

static size_t pool_used(const embedded_pool *p)
{
    size_t used = 0;
    for (size_t i = 0; i < p->nslots; i++)
        if (p->slots[i].size) used += block_extent(p->slots[i].size);
    return used;
}

/* Slide unlocked blocks among order[from..to) toward `floor`; locked blocks stay as islands. */
static void compact_down(embedded_pool *p, const size_t order[], size_t from, size_t to, size_t floor)
{
    size_t cursor = floor;
    for (size_t k = from; k < to; k++) {
        emb_slot *s = &p->slots[order[k]];
        if (s->lock == 0 && s->offset > cursor) block_move(p, s, cursor);
        cursor = slot_end(s);
    }
}

/* Slide unlocked blocks among order[from..to) toward `ceiling`, last block first. */
static void compact_up(embedded_pool *p, const size_t order[], size_t from, size_t to, size_t ceiling)
{
    size_t cursor = ceiling;
    for (size_t k = to; k-- > from;) {
        emb_slot *s = &p->slots[order[k]];
        size_t extent = block_extent(s->size);
        if (s->lock == 0 && s->offset + extent < cursor) block_move(p, s, cursor - extent);
        cursor = s->offset;
    }
}

/* Compaction toward the start of the data area, around locked blocks. */
static void pool_compact(embedded_pool *p)
{
    size_t n = slots_by_offset(p);
    p->steps += n;
    compact_down(p, p->order, 0, n, p->data_start);
    p->compactions++;
}

static size_t gap_largest(const embedded_pool *p)
{
    size_t n = slots_by_offset(p), cursor = p->data_start, best = 0;
    for (size_t k = 0; k < n; k++) {
        const emb_slot *s = &p->slots[p->order[k]];
        if (s->offset - cursor > best) best = s->offset - cursor;
        cursor = slot_end(s);
    }
    return p->size - cursor > best ? p->size - cursor : best;
}

/* Header + slots + the order scratch array, rounded to the block alignment. */
static int table_layout(size_t slots, size_t *data_start)
{
    size_t table;
    if (size_mul(slots, sizeof(emb_slot) + sizeof(size_t), &table) != POOL_OK) return POOL_EOVERFLOW;
    if (size_add(table, sizeof(embedded_pool), &table) != POOL_OK) return POOL_EOVERFLOW;
    return size_align_up(table, EMBEDDED_POOL_ALIGN, data_start);
}

size_t embedded_pool_table_bytes(size_t slots)
{
    size_t data_start;
    return slots && table_layout(slots, &data_start) == POOL_OK ? data_start : 0;
}

static int pool_layout(void *buffer, size_t size, size_t slots, embedded_pool **out)
{
    if (!buffer || slots == 0) return POOL_EINVAL;
    uintptr_t raw = (uintptr_t)buffer;
    uintptr_t base = (raw + (POOL_MAX_ALIGN - 1)) & ~(uintptr_t)(POOL_MAX_ALIGN - 1);
    size_t skip = (size_t)(base - raw), data_start;
    if (skip > size) return POOL_ENOMEM;
    if (table_layout(slots, &data_start) != POOL_OK) return POOL_EOVERFLOW;
    if (data_start >= size - skip) return POOL_ENOMEM;
    embedded_pool *p = (embedded_pool *)base;
    p->size = (size - skip) & ~(size_t)(EMBEDDED_POOL_ALIGN - 1);
    p->data_start = data_start;
    p->nslots = slots;
    p->order = (size_t *)(p->slots + slots);
    *out = p;
    return POOL_OK;
}

int embedded_pool_create_in(embedded_pool **out, void *buffer, size_t size, size_t slots,
                            unsigned flags)
{
    if (!out) return POOL_EINVAL;
    *out = NULL;
    if (flags & ~EMB_ZERO_ON_FREE) return POOL_EINVAL;
    embedded_pool *p;
    int err = pool_layout(buffer, size, slots, &p);
    if (err != POOL_OK) return err;
    p->flags = flags;
    p->hooks = (emb_hooks){hook_none, hook_none, NULL};
    p->compactions = p->bytes_moved = p->steps = p->nlive = 0;
    for (size_t i = 0; i < slots; i++) p->slots[i] = (emb_slot){0, 0, 0, 1};
    memset(pool_base(p) + p->data_start, 0, p->size - p->data_start);
    *out = p;
    return POOL_OK;
}

int embedded_pool_create_static(embedded_pool **out, size_t slots, unsigned flags)
{
    return embedded_pool_create_in(out, embedded_pool_memory, sizeof embedded_pool_memory, slots,
                                   flags);
}

void embedded_pool_set_hooks(embedded_pool *p, const emb_hooks *hooks)
{
    if (!p) return;
    if (hooks && hooks->enter && hooks->exit) p->hooks = *hooks;
    else p->hooks = (emb_hooks){hook_none, hook_none, NULL};
}

/* Find room for `extent` bytes: first fit, then compaction and a second first fit. */
static int pool_find_room(embedded_pool *p, size_t extent, size_t skip, size_t *at)
{
    if (gap_first_fit(p, extent, skip, at) == POOL_OK) return POOL_OK;
    if (p->size - p->data_start - pool_used(p) < extent) return POOL_ENOMEM;
    pool_compact(p);
    return gap_first_fit(p, extent, skip, at);
}

int embedded_pool_alloc(embedded_pool *p, size_t size, emb_handle *out)
{
    if (!p || !out) return POOL_EINVAL;
    section_enter(p);
    p->steps = 0;
    if (size == 0) return section_exit(p, POOL_EINVAL);
    if (size > p->size - p->data_start) return section_exit(p, POOL_ENOMEM);
    size_t slot = p->nslots, at;
    for (size_t i = 0; i < p->nslots && slot == p->nslots; i++, p->steps++)
        if (p->slots[i].size == 0) slot = i;
    if (slot == p->nslots) return section_exit(p, POOL_ENOMEM);
    int err = pool_find_room(p, block_extent(size), p->nslots, &at);
    if (err != POOL_OK) return section_exit(p, err);
    emb_slot *s = &p->slots[slot];
    s->offset = at;
    s->size = size;
    s->lock = 0;
    order_insert(p, slot);
    *out = (emb_handle){(unsigned)slot, s->generation};
    return section_exit(p, POOL_OK);
}

/* Grow a block by moving its neighbours both ways: the blocks before it toward the start,
 * the blocks after it toward the end, then the block down, so all free bytes sit after it. */
static int block_grow_two_way(embedded_pool *p, emb_slot *s, size_t extent)
{
    size_t n = slots_by_offset(p), k = 0;
    const size_t *order = p->order;
    p->steps += n;
    while (&p->slots[order[k]] != s) k++;
    compact_down(p, order, 0, k, p->data_start);
    compact_up(p, order, k + 1, n, p->size);
    size_t floor = k ? slot_end(&p->slots[order[k - 1]]) : p->data_start;
    size_t ceiling = k + 1 < n ? p->slots[order[k + 1]].offset : p->size;
    p->compactions++;
    if (ceiling - floor < extent) return POOL_ENOMEM;
    block_move(p, s, floor);
    return POOL_OK;
}

int embedded_pool_realloc(embedded_pool *p, emb_handle h, size_t size)
{
    if (!p) return POOL_EINVAL;
    section_enter(p);
    p->steps = 0;
    emb_slot *s;
    int err = handle_slot(p, h, &s);
    if (err != POOL_OK) return section_exit(p, err);
    if (size == 0) return section_exit(p, POOL_EINVAL);
    if (size > p->size - p->data_start) return section_exit(p, POOL_ENOMEM);
    size_t extent = block_extent(size), old = block_extent(s->size), next = p->size, at;
    for (size_t i = 0; i < p->nslots; i++, p->steps++)
        if (p->slots[i].size && p->slots[i].offset > s->offset && p->slots[i].offset < next)
            next = p->slots[i].offset;
    if (extent <= next - s->offset) { /* shrink, or grow into the gap after it */
        s->size = size;
        return section_exit(p, POOL_OK);
    }
    if (s->lock) return section_exit(p, POOL_ELOCKED);
    if (p->size - p->data_start - pool_used(p) + old < extent) return section_exit(p, POOL_ENOMEM);
    /* first fit with this block's own bytes counted as free: memmove copes with the overlap */
    if (gap_first_fit(p, extent, (size_t)(s - p->slots), &at) == POOL_OK) {
        order_remove(p, (size_t)(s - p->slots)); /* it may land on the other side of others */
        block_move(p, s, at);
        order_insert(p, (size_t)(s - p->slots));
        s->size = size;
        return section_exit(p, POOL_OK);
    }
    err = block_grow_two_way(p, s, extent);
    if (err == POOL_OK) s->size = size;
    return section_exit(p, err);
}

int embedded_pool_free(embedded_pool *p, emb_handle h)
{
    if (!p) return POOL_EINVAL;
    section_enter(p);
    p->steps = 1;
    emb_slot *s;
    int err = handle_slot(p, h, &s);
    if (err != POOL_OK) return section_exit(p, err);
    if (s->lock) return section_exit(p, POOL_ELOCKED);
    if (p->flags & EMB_ZERO_ON_FREE) memset(pool_base(p) + s->offset, 0, block_extent(s->size));
    order_remove(p, (size_t)(s - p->slots));
    s->size = 0;
    s->generation = s->generation == ~0u ? 1 : s->generation + 1;
    return section_exit(p, POOL_OK);
}

int embedded_pool_compact(embedded_pool *p)
{
    if (!p) return POOL_EINVAL;
    section_enter(p);
    p->steps = 0;
    pool_compact(p);
    return section_exit(p, POOL_OK);
}

int embedded_pool_lock(embedded_pool *p, emb_handle h, void **out)
{
    if (!p || !out) return POOL_EINVAL;
    section_enter(p);
    emb_slot *s;
    int err = handle_slot(p, h, &s);
    if (err != POOL_OK) return section_exit(p, err);
    if (s->lock == ~0u) return section_exit(p, POOL_EOVERFLOW);
    s->lock++;
    *out = pool_base(p) + s->offset;
    return section_exit(p, POOL_OK);
}

int embedded_pool_unlock(embedded_pool *p, emb_handle h)
{
    if (!p) return POOL_EINVAL;
    section_enter(p);
    emb_slot *s;
    int err = handle_slot(p, h, &s);
    if (err != POOL_OK) return section_exit(p, err);
    if (s->lock == 0) return section_exit(p, POOL_ENOTLOCKED);
    s->lock--;
    return section_exit(p, POOL_OK);
}

int embedded_pool_offset(const embedded_pool *p, emb_handle h, size_t *offset, size_t *size)
{
    if (!p || !offset || !size) return POOL_EINVAL;
    emb_slot *s;
    int err = handle_slot(p, h, &s);
    if (err != POOL_OK) return err;
    *offset = s->offset;
    *size = s->size;
    return POOL_OK;
}

unsigned char *embedded_pool_base(const embedded_pool *p)
{
    return p ? pool_base(p) : NULL;
}

void embedded_pool_stats(const embedded_pool *p, emb_stats *s)
{
    if (!p || !s) return;
    memset(s, 0, sizeof *s);
    s->capacity = p->size - p->data_start;
    s->table_bytes = p->data_start;
    s->used = pool_used(p);
    s->free_bytes = s->capacity - s->used;
    s->largest_gap = gap_largest(p);
    for (size_t i = 0; i < p->nslots; i++) s->live += p->slots[i].size != 0;
    s->slots = p->nslots;
    s->compactions = p->compactions;
    s->bytes_moved = p->bytes_moved;
    s->last_steps = p->steps;
}

size_t embedded_pool_last_steps(const embedded_pool *p)
{
    return p ? p->steps : 0;
}

void embedded_pool_walk(const embedded_pool *p, pool_walker fn, void *user)
{
    if (!p || !fn) return;
    size_t n = slots_by_offset(p), cursor = p->data_start;
    fn(0, p->data_start, POOL_REGION_TABLE, -1, user);
    for (size_t k = 0; k < n; k++) {
        const emb_slot *s = &p->slots[p->order[k]];
        if (s->offset > cursor) fn(cursor, s->offset - cursor, POOL_REGION_FREE, -1, user);
        fn(s->offset, s->size, POOL_REGION_PAYLOAD, (long)p->order[k], user);
        if (block_extent(s->size) > s->size)
            fn(s->offset + s->size, block_extent(s->size) - s->size, POOL_REGION_PADDING,
               (long)p->order[k], user);
        cursor = slot_end(s);
    }
    if (p->size > cursor) fn(cursor, p->size - cursor, POOL_REGION_FREE, -1, user);
}

const char *embedded_pool_check(const embedded_pool *p)
{
    if (!p) return "pool is NULL";
    if (p->data_start > p->size) return "table runs past the pool";
    size_t n = slots_by_offset(p), cursor = p->data_start;
    for (size_t k = 0; k < n; k++) {
        const emb_slot *s = &p->slots[p->order[k]];
        if (s->offset % EMBEDDED_POOL_ALIGN) return "a block is misaligned";
        if (s->offset < cursor) return "two blocks overlap (or a block overlaps the table)";
        if (s->offset > p->size || block_extent(s->size) > p->size - s->offset)
            return "a block runs past the end of the pool";
        cursor = slot_end(s);
    }
    size_t live = 0;
    for (size_t i = 0; i < p->nslots; i++) {
        if (p->slots[i].generation == 0) return "a slot has generation 0";
        if (p->slots[i].size == 0 && p->slots[i].lock) return "a free slot is locked";
        live += p->slots[i].size != 0;
    }
    if (live != p->nlive) return "the address order does not list every live block";
    for (size_t k = 0; k < p->nlive; k++)
        if (p->order[k] >= p->nslots || p->slots[p->order[k]].size == 0)
            return "the address order lists a free or missing slot";
    return NULL;
}
