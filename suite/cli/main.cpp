#include <cstdio>
int main() { std::puts("clcp-bench"); return 0; }
