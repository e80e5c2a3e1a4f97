# The board VM's persona: the shipped example (policies/persona.example.toml) on QEMU user networking, whose
# guest address is 10.0.2.15/24 with the gateway 10.0.2.2 (the host forwards to 445 and 139 go there).
# Everything else (names, imitation, MAC, shares) stays the example's.
s|^addresses = .*|addresses = ["10.0.2.15/24"]|
/^routes = \[/,/^\]/c\
routes = [{ to = "default", via = "10.0.2.2" }]
