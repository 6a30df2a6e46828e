cmd_/work/main/bootshake.o := ld -m elf_x86_64 -z noexecstack --no-warn-rwx-segments   -r -o /work/main/bootshake.o @/work/main/bootshake.mod 
