#include <cstdio>
int main() { std::puts("freshet: under construction"); return 0; }
