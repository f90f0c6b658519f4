// module reader
