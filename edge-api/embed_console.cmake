# Turns the browser console's files (console/ at the top of the tree) into
# a C source holding each file's bytes, the path it is served at, its
# media type and a strong ETag (the first 32 hex digits of its SHA-256),
# so the edge serves them without reading files at run time. Run as
#   cmake -DDIR=<console dir> -DOUT=<file.c> -P embed_console.cmake
# index.html is served at "/", every other file at "/console/<name>".
# The build fails on a file whose extension has no media type here.
file(GLOB files RELATIVE "${DIR}" "${DIR}/*")
list(SORT files)
set(rows "")
set(arrays "")
set(i 0)
foreach(name IN LISTS files)
  if(IS_DIRECTORY "${DIR}/${name}")
    message(FATAL_ERROR "${DIR}/${name}: the console is one flat directory")
  endif()
  if(name MATCHES "\\.html$")
    set(type "text/html; charset=utf-8")
  elseif(name MATCHES "\\.js$")
    set(type "text/javascript; charset=utf-8")
  elseif(name MATCHES "\\.css$")
    set(type "text/css; charset=utf-8")
  elseif(name MATCHES "\\.svg$")
    set(type "image/svg+xml")
  elseif(name MATCHES "\\.png$")
    set(type "image/png")
  else()
    message(FATAL_ERROR "${DIR}/${name}: no media type for this extension")
  endif()
  if(name STREQUAL "index.html")
    set(path "/")
  else()
    set(path "/console/${name}")
  endif()
  file(SHA256 "${DIR}/${name}" sum)
  string(SUBSTRING "${sum}" 0 32 tag)
  file(READ "${DIR}/${name}" hex HEX)
  string(LENGTH "${hex}" hex_len)
  math(EXPR size "${hex_len} / 2")
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
  string(REGEX REPLACE "((0x[0-9a-f][0-9a-f],){20})" "\\1\n\t" bytes "${bytes}")
  string(APPEND arrays
    "/* ${name} */\nstatic const unsigned char asset_${i}[] = {\n\t${bytes}0x00\n};\n\n")
  string(APPEND rows
    "\t{\"${path}\", \"${type}\", \"\\\"${tag}\\\"\", asset_${i}, ${size}},\n")
  math(EXPR i "${i} + 1")
endforeach()
if(i EQUAL 0)
  message(FATAL_ERROR "${DIR}: no console files")
endif()
file(WRITE "${OUT}.tmp"
"/* Generated from console/ by embed_console.cmake: do not edit. */\n"
"#include \"console.h\"\n\n"
"${arrays}"
"const edge_asset edge_console_assets[] = {\n${rows}};\n"
"const size_t edge_console_assets_n = ${i};\n")
file(RENAME "${OUT}.tmp" "${OUT}")
