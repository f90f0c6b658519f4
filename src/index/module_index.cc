// module index
