/* Cheat: a 300-byte global table (the lab allows 256 bytes of statics). */
#define mm_init ff_init
/*@ALLOCATOR@*/
#undef mm_init

unsigned char mm_size_table[300];

bool mm_init(void)
{
    memset(mm_size_table, 1, sizeof mm_size_table);
    return ff_init();
}
