vcl 4.1;
# bare-edge baseline: Varnish with default settings (built-in VCL only) in front of the bare route.
backend default {
  .host = "127.0.0.1";
  .port = "@BACKEND_PORT@";
}
