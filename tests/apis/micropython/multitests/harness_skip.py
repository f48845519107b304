# Harness semantics: multitest.skip() before NEXT marks the whole test as skipped.
def instance0():
    print("checking for a feature")
    multitest.skip()
    print("never printed")


def instance1():
    multitest.next()
    print("never started")
