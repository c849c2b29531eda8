/*
 * ok.c - the unbroken base allocator: the control case of the catalogue.
 * It is base.c alone (the clang-built driver links it as its mm.c).
 */
#include "base.c"
