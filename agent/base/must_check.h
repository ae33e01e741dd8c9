/*
 * must_check.h - LF_MUST_CHECK: a result the caller may not drop.
 *
 * Ground floor. On a function whose result is an allocation (dropping it leaks) or a
 * failure the caller must act on (reg_set(): an offset not recorded). GCC and Clang warn at
 * a call that ignores it, and -Werror makes that a build failure; a deliberate drop says so
 * with an if and a comment, since a (void) cast does not silence this attribute in GCC.
 */
#ifndef LF_MUST_CHECK_H
#define LF_MUST_CHECK_H

#define LF_MUST_CHECK __attribute__((warn_unused_result))

#endif
