/*
 * cfi.c: a small DWARF CFI interpreter for x86-64 (see cfi.h).  The
 * formats are those of the DWARF 4 standard (section 6.4) and the LSB's
 * .eh_frame (CIE augmentations z, R, P, L, S; pointer encodings).
 */
#include "cfi.h"

#include <string.h>

enum { REG_RBP = 6, REG_RSP = 7, REG_RA = 16 };

/* libgcc_s: the FDE covering pc, and in bases->func its function's start. */
struct mprof_eh_bases {
    void *tbase, *dbase, *func;
};
extern const void *_Unwind_Find_FDE(void *pc, struct mprof_eh_bases *bases); // NOLINT(bugprone-reserved-identifier,cert-dcl37-c,cert-dcl51-cpp): libgcc's name

/* A register's rule: same value (unknown if never known), or saved at
 * CFA + off. */
struct rule {
    int saved;
    int64_t off;
};

struct state {
    int cfa_reg;     /* REG_RSP or REG_RBP; -1: not one we can compute */
    int64_t cfa_off;
    struct rule rbp, ra;
};

struct reader {
    const unsigned char *p, *end;
    int bad;
};

static unsigned char u8(struct reader *r)
{
    if (r->p >= r->end) {
        r->bad = 1;
        return 0;
    }
    return *r->p++;
}

static uint64_t fixed(struct reader *r, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v |= (uint64_t)u8(r) << (8 * i);
    return v;
}

static uint64_t uleb(struct reader *r)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        unsigned char b = u8(r);
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            return v;
    }
    r->bad = 1;
    return v;
}

static int64_t sleb(struct reader *r)
{
    uint64_t v = 0;
    int shift = 0;
    unsigned char b;
    do {
        b = u8(r);
        v |= (uint64_t)(b & 0x7f) << shift;
        shift += 7;
    } while ((b & 0x80) && shift < 64 && !r->bad);
    if (shift < 64 && (b & 0x40))
        v |= ~(uint64_t)0 << shift;
    return (int64_t)v;
}

/* Skip an encoded pointer (DW_EH_PE_*): only its size matters here. */
static void skip_encoded(struct reader *r, unsigned char enc)
{
    if (enc == 0xff) /* DW_EH_PE_omit */
        return;
    switch (enc & 0x0f) {
    case 0x00: fixed(r, 8); break; /* absptr */
    case 0x01: uleb(r); break;
    case 0x02: case 0x0a: fixed(r, 2); break;
    case 0x03: case 0x0b: fixed(r, 4); break;
    case 0x04: case 0x0c: fixed(r, 8); break;
    case 0x09: sleb(r); break;
    default: r->bad = 1; break;
    }
}

struct cie {
    uint64_t code_align;
    int64_t data_align;
    unsigned char fde_enc;
    int has_z;
    const unsigned char *insns, *end; /* initial instructions */
};

static int parse_cie(const unsigned char *at, struct cie *c)
{
    uint32_t len;
    memcpy(&len, at, 4);
    if (len == 0 || len == 0xffffffffu)
        return -1;
    struct reader r = {at + 8, at + 4 + len, 0}; /* past length and id */
    unsigned char version = u8(&r);
    const char *aug = (const char *)r.p;
    size_t alen = strnlen(aug, (size_t)(r.end - r.p));
    r.p += alen + 1;
    if (strstr(aug, "eh"))
        fixed(&r, 8);
    c->code_align = uleb(&r);
    c->data_align = sleb(&r);
    if (version == 1)
        u8(&r);
    else
        uleb(&r);
    c->fde_enc = 0;
    c->has_z = aug[0] == 'z';
    if (c->has_z) {
        uint64_t n = uleb(&r);
        struct reader a = {r.p, r.p + n, 0};
        for (const char *s = aug + 1; *s; s++) {
            if (*s == 'R')
                c->fde_enc = u8(&a);
            else if (*s == 'P') {
                unsigned char e = u8(&a);
                skip_encoded(&a, e);
            } else if (*s == 'L')
                u8(&a);
            else if (*s != 'S' && *s != 'B')
                return -1;
        }
        r.p += n;
    } else if (aug[0]) {
        return -1;
    }
    c->insns = r.p;
    c->end = r.end;
    return r.bad || r.p > r.end ? -1 : 0;
}

static struct rule *reg_rule(struct state *s, uint64_t reg)
{
    return reg == REG_RBP ? &s->rbp : reg == REG_RA ? &s->ra : NULL;
}

#define STACK_DEPTH 8

/* Run instructions [r) for code from loc up to target: *s holds the rules
 * at target.  init: the CIE's rules, for DW_CFA_restore.  -1 when an
 * instruction is one we do not follow. */
static int run(struct reader *r, const struct cie *c, uint64_t loc, uint64_t target,
               struct state *s, const struct state *init)
{
    struct state saved[STACK_DEPTH];
    int depth = 0;
    while (r->p < r->end && !r->bad) {
        unsigned char op = u8(r), low = op & 0x3f;
        uint64_t reg, delta = 0;
        struct rule *rule;
        switch (op & 0xc0) {
        case 0x40: /* advance_loc */
            delta = low;
            break;
        case 0x80: /* offset */
            rule = reg_rule(s, low);
            int64_t off = (int64_t)uleb(r) * c->data_align;
            if (rule)
                *rule = (struct rule){1, off};
            continue;
        case 0xc0: /* restore */
            if ((rule = reg_rule(s, low)))
                *rule = *reg_rule((struct state *)init, low);
            continue;
        default:
            break;
        }
        if (op & 0xc0) {
            loc += delta * c->code_align;
            if (loc > target)
                return 0;
            continue;
        }
        switch (op) {
        case 0x00: break; /* nop */
        case 0x02: delta = fixed(r, 1); goto advance;
        case 0x03: delta = fixed(r, 2); goto advance;
        case 0x04: delta = fixed(r, 4); goto advance;
        case 0x05: /* offset_extended */
            reg = uleb(r);
            if ((rule = reg_rule(s, reg)))
                *rule = (struct rule){1, (int64_t)uleb(r) * c->data_align};
            else
                uleb(r);
            break;
        case 0x11: /* offset_extended_sf */
            reg = uleb(r);
            if ((rule = reg_rule(s, reg)))
                *rule = (struct rule){1, sleb(r) * c->data_align};
            else
                sleb(r);
            break;
        case 0x06: /* restore_extended */
            reg = uleb(r);
            if ((rule = reg_rule(s, reg)))
                *rule = *reg_rule((struct state *)init, reg);
            break;
        case 0x07: /* undefined */
            reg = uleb(r);
            if (reg == REG_RA)
                s->ra = (struct rule){0, 0}; /* the outermost frame */
            else if (reg == REG_RBP)
                s->rbp = (struct rule){0, 0};
            break;
        case 0x08: /* same_value */
            if ((rule = reg_rule(s, uleb(r))))
                *rule = (struct rule){0, 0};
            break;
        case 0x09: /* register: not followed for rbp or the return address */
            reg = uleb(r);
            uleb(r);
            if (reg_rule(s, reg))
                return -1;
            break;
        case 0x0a: /* remember_state */
            if (depth == STACK_DEPTH)
                return -1;
            saved[depth++] = *s;
            break;
        case 0x0b: /* restore_state */
            if (depth == 0)
                return -1;
            *s = saved[--depth];
            break;
        case 0x0c: /* def_cfa */
            reg = uleb(r);
            s->cfa_reg = reg == REG_RSP || reg == REG_RBP ? (int)reg : -1;
            s->cfa_off = (int64_t)uleb(r);
            break;
        case 0x12: /* def_cfa_sf */
            reg = uleb(r);
            s->cfa_reg = reg == REG_RSP || reg == REG_RBP ? (int)reg : -1;
            s->cfa_off = sleb(r) * c->data_align;
            break;
        case 0x0d: /* def_cfa_register */
            reg = uleb(r);
            s->cfa_reg = reg == REG_RSP || reg == REG_RBP ? (int)reg : -1;
            break;
        case 0x0e: s->cfa_off = (int64_t)uleb(r); break; /* def_cfa_offset */
        case 0x13: s->cfa_off = sleb(r) * c->data_align; break;
        case 0x0f: /* def_cfa_expression */
            r->p += uleb(r);
            s->cfa_reg = -1;
            break;
        case 0x10: case 0x16: /* expression, val_expression */
            reg = uleb(r);
            r->p += uleb(r);
            if (reg_rule(s, reg))
                return -1;
            break;
        case 0x14: case 0x15: /* val_offset(_sf) */
            reg = uleb(r);
            if (op == 0x14) uleb(r); else sleb(r);
            if (reg_rule(s, reg))
                return -1;
            break;
        case 0x2e: uleb(r); break; /* GNU_args_size */
        default: return -1;        /* set_loc and the rest: not followed */
        }
        continue;
    advance:
        loc += delta * c->code_align;
        if (loc > target)
            return 0;
    }
    return r->bad ? -1 : 0;
}

/* The rules at address `at` (in the function of FDE fde). */
static int rules_at(uintptr_t at, struct state *s)
{
    struct mprof_eh_bases bases;
    const unsigned char *fde = _Unwind_Find_FDE((void *)at, &bases); // NOLINT(performance-no-int-to-ptr): a code address
    if (!fde)
        return -1;
    uint32_t len;
    int32_t cie_off;
    memcpy(&len, fde, 4);
    memcpy(&cie_off, fde + 4, 4);
    if (len == 0 || len == 0xffffffffu)
        return -1;
    struct cie c;
    if (parse_cie(fde + 4 - cie_off, &c) != 0)
        return -1;
    struct reader r = {fde + 8, fde + 4 + len, 0};
    skip_encoded(&r, c.fde_enc); /* pc_begin: bases.func has it */
    skip_encoded(&r, c.fde_enc & 0x0f); /* pc_range: the value format alone */
    if (c.has_z)
        r.p += uleb(&r);
    if (r.bad || r.p > r.end)
        return -1;
    uint64_t func = (uint64_t)(uintptr_t)bases.func;
    *s = (struct state){.cfa_reg = -1};
    struct reader ir = {c.insns, c.end, 0};
    if (run(&ir, &c, func, UINT64_MAX, s, s) != 0)
        return -1;
    struct state init = *s;
    return run(&r, &c, func, at, s, &init);
}

static int load(const mprof_stack_copy *copy, uintptr_t addr, uintptr_t *out)
{
    if (addr < copy->base || addr - copy->base > copy->len - sizeof *out || copy->len < sizeof *out)
        return -1;
    memcpy(out, copy->stack + (addr - copy->base), sizeof *out);
    return 0;
}

int mprof_cfi_unwind(uintptr_t pc, uintptr_t sp, const mprof_stack_copy *copy,
                     uintptr_t *pcs, int max)
{
    if (max <= 0)
        return 0;
    int n = 0;
    uintptr_t rbp = 0;
    int rbp_known = 0;
    pcs[n++] = pc + 1;
    /* The leaf is stopped at pc itself; a caller at its call, whose last
     * byte (return address - 1) has the call's rules. */
    uintptr_t at = pc;
    while (n < max) {
        struct state s;
        if (rules_at(at, &s) != 0 || s.cfa_reg < 0 || !s.ra.saved)
            break;
        if (s.cfa_reg == REG_RBP && !rbp_known)
            break;
        uintptr_t cfa = (s.cfa_reg == REG_RSP ? sp : rbp) + (uintptr_t)s.cfa_off;
        uintptr_t ra;
        if (cfa <= sp || load(copy, cfa + (uintptr_t)s.ra.off, &ra) != 0 || ra == 0)
            break;
        if (s.rbp.saved) {
            if (load(copy, cfa + (uintptr_t)s.rbp.off, &rbp) != 0)
                break;
            rbp_known = 1;
        }
        sp = cfa;
        pcs[n++] = ra;
        at = ra - 1;
    }
    return n;
}
